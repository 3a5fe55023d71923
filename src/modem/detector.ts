/**
 * Hot-plug detection over the device dir (LTEPROXY_DEVICE_DIR, default /dev/modems) that udev fills with
 * `<slot>/at|modem|qmi` links. inotify (fs.watch, recursive: the `at` link appears inside a new slot directory)
 * triggers a debounced rescan; a slow periodic rescan is the safety net for lost events and for a device dir that
 * did not exist yet. Each rescan diffs the slots against the last one, so a hub dropping ten modems at once is one
 * scan with ten `vanished`, and two modems appearing together are two `appeared`.
 *
 * Events:
 *   appeared(slot, paths)   a slot got a usable `at` port
 *   vanished(slot, last)    its `at` port is gone
 *   changed(slot, paths)    same port, but sysfs now shows more (the netdev or cdc-wdm arrived after the tty)
 * A reboot that renames the ports (ttyUSB2 → ttyUSB6, ec25.md §1.4) is vanished + appeared even when both
 * happen between two scans: the `at` link's target differs.
 */
import fs from "node:fs";
import { childLogger } from "../lib/logger.ts";
import { Emitter } from "./emitter.ts";
import { listSlots, resolveSlot, type SlotPaths, type SysfsLayout } from "./sysfs.ts";

export interface DetectorOptions extends SysfsLayout {
  /** Safety-net rescan period (default 30 s). */
  rescanMs?: number;
  /** Coalescing delay after an inotify event (default 15 ms): a slot's links arrive as a burst. */
  debounceMs?: number;
  /** Rescan period while the device dir is missing or unwatchable (default 1 s). */
  missingDirPollMs?: number;
}

export type DetectorEvents = {
  appeared: (slot: string, paths: SlotPaths) => void;
  vanished: (slot: string, last: SlotPaths) => void;
  changed: (slot: string, paths: SlotPaths) => void;
};

const log = childLogger("detector");

function sameShape(a: SlotPaths, b: SlotPaths): boolean {
  return a.ifname === b.ifname && a.qmiPath === b.qmiPath && a.cdcWdm === b.cdcWdm && a.modemPath === b.modemPath
    && a.usbDevice === b.usbDevice;
}

export class SlotDetector extends Emitter<DetectorEvents> {
  private readonly known = new Map<string, SlotPaths>();
  private watcher: fs.FSWatcher | null = null;
  /** Inode of the watched dir: a dir removed and made again needs a new watch (inotify watches the inode). */
  private watchedIno = -1;
  private debounce: ReturnType<typeof setTimeout> | null = null;
  private periodic: ReturnType<typeof setTimeout> | null = null;
  private running = false;
  /** Counts, for tests and metrics. */
  readonly stats = { scans: 0, watchEvents: 0, watchErrors: 0 };

  constructor(readonly opts: DetectorOptions) {
    super(log);
  }

  /** Watches and scans once (synchronously: listeners attached before start() see every present slot). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.ensureWatch();
    this.scan();
    this.schedulePeriodic();
  }

  stop(): void {
    this.running = false;
    this.watcher?.close();
    this.watcher = null;
    if (this.debounce) clearTimeout(this.debounce);
    if (this.periodic) clearTimeout(this.periodic);
    this.debounce = this.periodic = null;
  }

  /** Slots present at the last scan. */
  present(): SlotPaths[] {
    return [...this.known.values()];
  }

  get(slot: string): SlotPaths | undefined {
    return this.known.get(slot);
  }

  /** Diffs the device dir against the last scan and emits the differences. Safe to call any time. */
  scan(): void {
    this.stats.scans++;
    if (this.watcher && this.dirIno() !== this.watchedIno) {
      this.watcher.close();
      this.watcher = null;
      this.ensureWatch();
    }
    const seen = new Set<string>();
    for (const slot of listSlots(this.opts.deviceDir)) {
      const paths = resolveSlot(slot, this.opts);
      if (!paths) continue;
      seen.add(slot);
      const old = this.known.get(slot);
      if (!old) {
        this.known.set(slot, paths);
        this.emit("appeared", slot, paths);
      } else if (old.atTarget !== paths.atTarget) {
        this.known.set(slot, paths);
        this.emit("vanished", slot, old);
        this.emit("appeared", slot, paths);
      } else if (!sameShape(old, paths)) {
        this.known.set(slot, paths);
        this.emit("changed", slot, paths);
      }
    }
    for (const [slot, last] of [...this.known]) {
      if (seen.has(slot)) continue;
      this.known.delete(slot);
      this.emit("vanished", slot, last);
    }
  }

  private dirIno(): number {
    try {
      return fs.statSync(this.opts.deviceDir).ino;
    } catch {
      return -1;
    }
  }

  private ensureWatch(): void {
    if (this.watcher || !this.running) return;
    try {
      this.watchedIno = this.dirIno();
      const w = fs.watch(this.opts.deviceDir, { recursive: true }, () => {
        this.stats.watchEvents++;
        this.kick();
      });
      w.on("error", (e) => {
        // The device dir itself was removed (lab stop, udev cleanup): fall back to polling until it is back.
        this.stats.watchErrors++;
        log.debug({ err: String(e) }, "device dir watch ended");
        if (this.watcher === w) this.watcher = null;
        w.close();
        this.kick();
      });
      this.watcher = w;
    } catch {
      this.watcher = null; // missing dir: the periodic rescan retries
    }
  }

  private kick(): void {
    if (!this.running || this.debounce) return;
    this.debounce = setTimeout(() => {
      this.debounce = null;
      if (!this.running) return;
      this.ensureWatch();
      this.scan();
    }, this.opts.debounceMs ?? 15);
  }

  private schedulePeriodic(): void {
    if (!this.running) return;
    const ms = this.watcher ? (this.opts.rescanMs ?? 30_000) : (this.opts.missingDirPollMs ?? 1000);
    this.periodic = setTimeout(() => {
      this.periodic = null;
      this.ensureWatch();
      this.scan();
      this.schedulePeriodic();
    }, ms);
    this.periodic.unref?.();
  }
}
