/**
 * QMI client ids of one simulated modem. qmicli allocates a CID per service for each run and releases it at exit
 * unless told --client-no-release-cid; forgotten CIDs stay allocated ("leaked") until the modem resets, and a data
 * call dies with the WDS client that started it (ec25.md §5.4).
 */
import type { Rng } from "../rng.ts";

export const QMI_SERVICES = ["wds", "dms", "nas", "wda", "uim"] as const;
export type QmiService = (typeof QMI_SERVICES)[number];

export class QmiClients {
  private readonly clients = new Map<QmiService, Set<number>>();
  private readonly next = new Map<QmiService, number>();

  constructor(private readonly rng: Rng) {
    this.reset();
  }

  /** After a reset: WDS ids start in the teens (the firmware keeps a few for itself [T 05, T 26, T 30]). */
  reset(): void {
    this.clients.clear();
    for (const s of QMI_SERVICES) {
      this.clients.set(s, new Set());
      this.next.set(s, s === "wds" ? this.rng.int(14, 20) : this.rng.int(1, 3));
    }
  }

  /** A new CID, or undefined when all 255 are taken (ClientIdsExhausted). */
  allocate(service: QmiService): number | undefined {
    const used = this.clients.get(service)!;
    for (let tries = 0; tries < 255; tries++) {
      const cid = this.next.get(service)!;
      this.next.set(service, cid >= 255 ? 1 : cid + 1);
      if (!used.has(cid)) { used.add(cid); return cid; }
    }
    return undefined;
  }

  has(service: QmiService, cid: number): boolean {
    return this.clients.get(service)!.has(cid);
  }

  release(service: QmiService, cid: number): boolean {
    return this.clients.get(service)!.delete(cid);
  }

  /** Allocated CIDs per service (what `sim ctl list` shows; leaked ones included). */
  snapshot(): Record<QmiService, number[]> {
    const out = {} as Record<QmiService, number[]>;
    for (const s of QMI_SERVICES) out[s] = [...this.clients.get(s)!].sort((a, b) => a - b);
    return out;
  }
}
