/**
 * `lteproxy sim qmicli -d DIR/<slot>/qmi …`: a qmicli stand-in for the lab. It forwards its arguments to the slot's
 * qmi socket and prints what the simulated modem answered, on the same streams and with the same exit status as
 * libqmi's qmicli (ec25.md §5). Kept free of heavy imports so that it starts fast.
 */
import fs from "node:fs";
import net from "node:net";
import { parseQmicliArgs } from "./args.ts";
import { noSuchDevice } from "./format.ts";

/** How long the client waits for the sim (a data call or a hung modem can take a while). */
const CLIENT_TIMEOUT_MS = 200_000;

interface Reply {
  stdout: string;
  stderr: string;
  code: number;
}

function request(socketPath: string, argv: readonly string[]): Promise<Reply> {
  return new Promise((resolve) => {
    let buf = "";
    let settled = false;
    const finish = (r: Reply) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      conn.destroy();
      resolve(r);
    };
    const conn = net.createConnection({ path: socketPath });
    const timer = setTimeout(() => finish({ stdout: "", stderr: "error: operation failed: Transaction timed out\n", code: 1 }), CLIENT_TIMEOUT_MS);
    conn.on("connect", () => conn.write(`${JSON.stringify({ argv })}\n`));
    conn.on("data", (chunk) => {
      buf += chunk.toString();
      const nl = buf.indexOf("\n");
      if (nl < 0) return;
      try {
        const r = JSON.parse(buf.slice(0, nl)) as Reply;
        finish({ stdout: String(r.stdout ?? ""), stderr: String(r.stderr ?? ""), code: Number(r.code ?? 1) });
      } catch {
        finish({ stdout: "", stderr: "error: operation failed: malformed reply\n", code: 1 });
      }
    });
    conn.on("error", (e: NodeJS.ErrnoException) => {
      const reason = e.code === "ECONNREFUSED" || e.code === "ENOENT" ? "Device not ready" : e.message;
      finish({ stdout: "", stderr: `error: couldn't open the QmiDevice: ${reason}\n`, code: 1 });
    });
    conn.on("close", () => finish({ stdout: "", stderr: "error: operation failed: Transaction aborted\n", code: 1 }));
  });
}

/** Entry point of `sim qmicli`; returns the exit status. */
export async function qmicliCommand(argv: readonly string[]): Promise<number> {
  const parsed = parseQmicliArgs(argv);
  if (!parsed.ok) {
    process.stderr.write(`error: ${parsed.error}\n`);
    return 1;
  }
  const device = parsed.inv.device;
  if (!device) {
    if (parsed.inv.help) {
      const { QMICLI_HELP } = await import("./exec.ts");
      process.stdout.write(QMICLI_HELP);
      return 0;
    }
    process.stderr.write("error: no device path specified\n");
    return 1;
  }
  let socketPath: string;
  try {
    // Resolve DIR/<slot>/qmi → <devRoot>/cdc-wdmN: unix socket paths are limited to 107 bytes.
    socketPath = fs.realpathSync(device);
  } catch {
    process.stderr.write(noSuchDevice(device));
    return 1;
  }
  const reply = await request(socketPath, argv);
  if (reply.stdout) process.stdout.write(reply.stdout);
  if (reply.stderr) process.stderr.write(reply.stderr);
  return reply.code;
}
