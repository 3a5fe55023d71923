/**
 * Short messages stored on the SIM ("SM" storage, 0-based indexes as Quectel numbers them). Survives reboots with the
 * SIM; the stat strings are those of 27.005 text mode (ec25.md §4.6).
 */
export type SmsStat = "REC UNREAD" | "REC READ" | "STO UNSENT" | "STO SENT";
export const SMS_STATS: readonly SmsStat[] = ["REC UNREAD", "REC READ", "STO UNSENT", "STO SENT"];

export interface StoredSms {
  index: number;
  stat: SmsStat;
  /** Originator (received) or destination (stored outgoing). */
  address: string;
  text: string;
  date: Date;
}

export const SM_CAPACITY = 50;

export class SmsStore {
  private readonly slots = new Map<number, StoredSms>();

  get used(): number {
    return this.slots.size;
  }

  /** Stores a message in the first free index; undefined when the SIM is full. */
  add(msg: Omit<StoredSms, "index">): StoredSms | undefined {
    for (let i = 0; i < SM_CAPACITY; i++) {
      if (!this.slots.has(i)) {
        const stored = { ...msg, index: i };
        this.slots.set(i, stored);
        return stored;
      }
    }
    return undefined;
  }

  get(index: number): StoredSms | undefined {
    return this.slots.get(index);
  }

  list(filter: SmsStat | "ALL"): StoredSms[] {
    return [...this.slots.values()]
      .filter((m) => filter === "ALL" || m.stat === filter)
      .sort((a, b) => a.index - b.index);
  }

  markRead(msg: StoredSms): void {
    if (msg.stat === "REC UNREAD") msg.stat = "REC READ";
  }

  delete(index: number): boolean {
    return this.slots.delete(index);
  }

  /** AT+CMGD=<i>,<delflag>: 1 read, 2 read+sent, 3 read+sent+unsent, 4 all. */
  deleteByFlag(flag: number): void {
    const doomed: SmsStat[][] = [[], ["REC READ"], ["REC READ", "STO SENT"], ["REC READ", "STO SENT", "STO UNSENT"], [...SMS_STATS]];
    const stats = doomed[flag] ?? [];
    for (const [i, m] of this.slots) if (stats.includes(m.stat)) this.slots.delete(i);
  }
}
