/**
 * Kernel-style device numbering (pure state): ttyUSBn, cdc-wdmN and wwanN take the lowest free number in probe order,
 * so a modem that re-enumerates after a reboot may come back under other names (ec25.md §1.4). USB device numbers
 * (devnum) count up per bus and wrap at 127, so they change on every enumeration.
 */
export class LowestFree {
  private readonly used = new Set<number>();

  take(): number {
    let n = 0;
    while (this.used.has(n)) n++;
    this.used.add(n);
    return n;
  }

  release(n: number | undefined): void {
    if (n !== undefined) this.used.delete(n);
  }

  get size(): number {
    return this.used.size;
  }
}

export class DevnumCounter {
  private next = 2;
  private readonly used = new Set<number>();

  constructor(reserved: number[] = [1]) {
    for (const n of reserved) this.used.add(n);
  }

  take(): number {
    for (let tries = 0; tries < 127; tries++) {
      const n = this.next;
      this.next = this.next >= 127 ? 2 : this.next + 1;
      if (!this.used.has(n)) { this.used.add(n); return n; }
    }
    // More than 126 devices on one bus cannot happen on real USB; keep counting rather than fail the lab.
    return 128 + this.used.size;
  }

  release(n: number): void {
    this.used.delete(n);
  }
}
