/**
 * Puts a data session's address and MTU on the modem's interface, and takes it off again. Shared by both drivers so
 * they end identical (ec25.md §5.5 "statically from --wds-get-current-settings"). No default route: the routing
 * reconciler owns routes.
 */
import { AppError } from "../../lib/errors.ts";
import type { IpCommand } from "../ip-command.ts";
import { parseIpAddrs } from "../routing-state.ts";

export interface InterfaceSettings {
  ifname: string;
  address: string;
  prefix: number;
  mtu: number;
}

/**
 * Adds the new address before removing other IPv4 addresses of the interface: removing the last address of a
 * device makes the kernel flush every route through it, which would drop the reconciler's routes for a moment.
 */
export async function applyInterfaceSettings(ip: IpCommand, s: InterfaceSettings): Promise<void> {
  try {
    await ip.exec(["addr", "replace", `${s.address}/${s.prefix}`, "dev", s.ifname]);
    const links = parseIpAddrs(await ip.query(["-json", "addr", "show", "dev", s.ifname]));
    for (const old of links[0]?.cidrs ?? []) {
      if (old !== `${s.address}/${s.prefix}`) await ip.exec(["addr", "del", old, "dev", s.ifname], { check: false });
    }
    await ip.exec(["link", "set", "dev", s.ifname, "mtu", String(s.mtu), "up"]);
  } catch (error) {
    throw new AppError("DATA_IFACE_CONFIG_FAILED", `cannot configure ${s.ifname}: ${(error as Error).message}`, {
      ifname: s.ifname,
    }, { cause: error });
  }
}

/** Removes every IPv4 address from the interface (end of session). A missing interface is not an error. */
export async function clearInterface(ip: IpCommand, ifname: string): Promise<void> {
  await ip.exec(["-4", "addr", "flush", "dev", ifname], { check: false });
}

/** 255.255.255.248 -> 29; throws on a non-contiguous or malformed mask. */
export function maskToPrefix(mask: string): number {
  const parts = mask.split(".");
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) {
    throw new AppError("DATA_BAD_NETMASK", `invalid netmask ${JSON.stringify(mask)}`);
  }
  const bits = parts.reduce((acc, p) => ((acc << 8) | Number(p)) >>> 0, 0);
  const prefix = 32 - Math.log2(((~bits) >>> 0) + 1);
  if (!Number.isInteger(prefix)) throw new AppError("DATA_BAD_NETMASK", `non-contiguous netmask ${mask}`);
  return prefix;
}
