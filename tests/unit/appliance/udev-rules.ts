/**
 * Test helper: a parser for udev rules files and a small evaluator for the subset of keys lteproxy's rules use.
 * The evaluator runs IMPORT{program} for real with /bin/sh and the device's properties as its environment, as udev
 * does, so the slot derivation is exercised, not re-implemented.
 */
import { spawnSync } from "node:child_process";

export interface Token {
  key: string;
  attr?: string;
  op: "==" | "!=" | "=" | "+=" | "-=" | ":=";
  value: string;
}

export interface Rule {
  line: number;
  text: string;
  tokens: Token[];
}

const TOKEN_RE = /^\s*([A-Z_]+)(?:\{([^}]*)\})?\s*(==|!=|\+=|-=|:=|=)\s*"((?:[^"\\]|\\.)*)"\s*(?:,|$)/;

/** Parses a rules file: comments, blank lines and backslash continuations. Throws on a token it cannot read. */
export function parseRules(text: string): Rule[] {
  const rules: Rule[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const start = i + 1;
    let line = lines[i]!;
    while (line.endsWith("\\") && i + 1 < lines.length) line = line.slice(0, -1) + lines[++i]!;
    if (line.trim() === "" || line.trim().startsWith("#")) continue;
    const tokens: Token[] = [];
    let rest = line;
    while (rest.trim() !== "") {
      const m = TOKEN_RE.exec(rest);
      if (!m) throw new Error(`line ${start}: cannot parse ${JSON.stringify(rest)}`);
      tokens.push({ key: m[1]!, attr: m[2], op: m[3] as Token["op"], value: m[4]! });
      rest = rest.slice(m[0].length);
    }
    rules.push({ line: start, text: line, tokens });
  }
  return rules;
}

/** Which ancestor a parent-matching key can only match on; "any" matches both (SUBSYSTEMS=="usb"). */
export type ParentLevel = "usb_device" | "usb_interface" | "any" | `other:${string}`;

const DEVICE_ATTRS = new Set(["idVendor", "idProduct", "bcdDevice", "serial", "manufacturer", "product", "busnum",
  "devnum", "devpath", "speed", "bDeviceClass", "bDeviceSubClass", "bDeviceProtocol", "bNumInterfaces",
  "bConfigurationValue", "bMaxPower", "version", "maxchild", "removable"]);
const INTERFACE_ATTRS = new Set(["bInterfaceNumber", "bInterfaceClass", "bInterfaceSubClass", "bInterfaceProtocol",
  "bAlternateSetting", "bNumEndpoints", "interface", "supports_autosuspend"]);
const INTERFACE_DRIVERS = new Set(["option", "qmi_wwan", "cdc_ether", "cdc_mbim", "cdc_wdm", "rndis_host", "usbserial_generic", "cdc_acm"]);

export const PARENT_KEYS = new Set(["KERNELS", "SUBSYSTEMS", "DRIVERS", "ATTRS", "TAGS"]);

export function parentLevel(t: Token): ParentLevel {
  switch (t.key) {
    case "ATTRS":
      if (DEVICE_ATTRS.has(t.attr ?? "")) return "usb_device";
      if (INTERFACE_ATTRS.has(t.attr ?? "")) return "usb_interface";
      return `other:ATTRS{${t.attr}}`;
    case "KERNELS":
      if (/^\d+-[\d.]+:\d+\.\d+$/.test(t.value)) return "usb_interface";
      if (/^(\d+-[\d.]+|usb\d+)$/.test(t.value)) return "usb_device";
      return `other:KERNELS=${t.value}`;
    case "DRIVERS":
      if (t.value === "usb") return "usb_device";
      if (INTERFACE_DRIVERS.has(t.value)) return "usb_interface";
      return `other:DRIVERS=${t.value}`;
    case "SUBSYSTEMS":
      return t.value === "usb" ? "any" : `other:SUBSYSTEMS=${t.value}`;
    default:
      return "any";
  }
}

/** The distinct ancestors one rule's parent keys need; more than one means the rule can never match (ec25.md §2.2). */
export function parentLevels(rule: Rule): Set<ParentLevel> {
  const levels = new Set<ParentLevel>();
  for (const t of rule.tokens) {
    if (!PARENT_KEYS.has(t.key) || (t.op !== "==" && t.op !== "!=")) continue;
    const level = parentLevel(t);
    if (level !== "any") levels.add(level);
  }
  return levels;
}

/** A simulated uevent: the properties other rules (50-udev-default, 60-serial) already set, and what builtins give. */
export interface SimDevice {
  action: string;
  subsystem: string;
  kernel: string;
  devpath: string;
  env: Record<string, string>;
  attrs?: Record<string, string>;
  parentSubsystems?: string[];
  builtins?: Record<string, Record<string, string>>;
}

export interface SimResult {
  env: Record<string, string>;
  symlinks: string[];
  tags: string[];
  group?: string;
  mode?: string;
  attrWrites: Record<string, string>;
  run: string[];
}

function globToRegex(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "*") re += ".*";
    else if (c === "?") re += ".";
    else if (c === "[") {
      const end = glob.indexOf("]", i);
      re += glob.slice(i, end + 1);
      i = end;
    } else re += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

/** udev's pattern match: `|` separates alternatives, an empty pattern matches only the empty value. */
export function udevMatch(pattern: string, value: string): boolean {
  return pattern.split("|").some((alt) => globToRegex(alt).test(value));
}

function substitute(value: string, dev: SimDevice, env: Record<string, string>): string {
  return value.replace(/\$\$|%%|\$env\{([^}]+)\}|%p|%k|\$devpath|\$kernel/g, (m, name: string | undefined) => {
    if (m === "$$") return "$";
    if (m === "%%") return "%";
    if (name !== undefined) return env[name] ?? "";
    if (m === "%p" || m === "$devpath") return dev.devpath;
    return dev.kernel;
  });
}

/** Splits a program string the way udev does: on spaces, with single-quoted arguments kept whole. */
function splitArgs(cmd: string): string[] {
  const out: string[] = [];
  const re = /'([^']*)'|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(cmd))) out.push(m[1] ?? m[2]!);
  return out;
}

function isMatchToken(t: Token): boolean {
  return t.op === "==" || t.op === "!=" || t.key === "IMPORT";
}

/**
 * Runs the rules on one simulated event and returns what udev would record. Like udev, each rule first evaluates its
 * match keys (IMPORT counts as one: it runs in order and fails the rule when it fails), then its assignments.
 */
export function evaluate(rules: Rule[], dev: SimDevice): SimResult {
  const env: Record<string, string> = { ...dev.env };
  const out: SimResult = { env, symlinks: [], tags: [], attrWrites: {}, run: [] };
  let gotoLabel: string | undefined;
  for (const rule of rules) {
    const label = rule.tokens.find((t) => t.key === "LABEL");
    if (gotoLabel !== undefined) {
      if (label?.value === gotoLabel) gotoLabel = undefined;
      continue;
    }
    if (rule.tokens.every((t) => matchToken(rule, t, dev, env))) {
      for (const t of rule.tokens.filter((x) => !isMatchToken(x))) {
        const value = substitute(t.value, dev, env);
        switch (t.key) {
          case "ENV": env[t.attr!] = value; break;
          case "ATTR": out.attrWrites[t.attr!] = value; break;
          case "SYMLINK": out.symlinks.push(value); break;
          case "TAG": out.tags.push(value); break;
          case "GROUP": out.group = value; break;
          case "MODE": out.mode = value; break;
          case "RUN": out.run.push(value); break;
          case "GOTO": gotoLabel = t.value; break;
          case "LABEL": break;
          default: throw new Error(`line ${rule.line}: key ${t.key} not simulated`);
        }
      }
    }
  }
  return out;
}

function matchToken(rule: Rule, t: Token, dev: SimDevice, env: Record<string, string>): boolean {
  if (!isMatchToken(t)) return true;
  const test = (actual: string) => (t.op === "==" ? udevMatch(t.value, actual) : !udevMatch(t.value, actual));
  switch (t.key) {
    case "ACTION": return test(dev.action);
    case "SUBSYSTEM": return test(dev.subsystem);
    case "KERNEL": return test(dev.kernel);
    case "SUBSYSTEMS": return (dev.parentSubsystems ?? []).concat(dev.subsystem).some((s) => udevMatch(t.value, s)) === (t.op === "==");
    case "ENV": return test(env[t.attr!] ?? "");
    case "ATTR": return test(dev.attrs?.[t.attr!] ?? "");
    case "IMPORT": {
      const value = substitute(t.value, dev, env);
      if (t.attr === "builtin") {
        const props = dev.builtins?.[value];
        if (props) Object.assign(env, props);
        return props !== undefined;
      }
      if (t.attr === "program") {
        const [cmd, ...args] = splitArgs(value);
        const r = spawnSync(cmd!, args, { env, encoding: "utf8" });
        for (const line of (r.stdout ?? "").split("\n")) {
          const kv = /^([A-Za-z0-9_.]+)=(.*)$/.exec(line);
          if (kv) env[kv[1]!] = kv[2]!;
        }
        return r.status === 0;
      }
      throw new Error(`line ${rule.line}: IMPORT{${t.attr}} not simulated`);
    }
    default:
      throw new Error(`line ${rule.line}: match key ${t.key} not simulated`);
  }
}
