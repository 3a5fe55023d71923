/**
 * `--net none`: modems without a data plane (AT-only tests, the 30-modem startup check). A data call cannot come up.
 */
import { AppError } from "../../lib/errors.ts";
import type { LabNetInfo, LabNetwork, SessionInfo } from "./types.ts";

export class NoneLab implements LabNetwork {
  readonly mode = "none" as const;
  constructor(private readonly labId: string) {}

  async setup(_count: number): Promise<void> {}

  ifname(_index: number): string | undefined {
    return undefined;
  }

  session(_index: number): SessionInfo | undefined {
    return undefined;
  }

  async sessionUp(index: number, _opts: { sticky: boolean }): Promise<SessionInfo> {
    throw new AppError("LAB_NO_NETWORK", `modem ${index}: the lab runs with --net none, no data call can come up`);
  }

  async sessionDown(_index: number): Promise<void> {}
  async linkDown(_index: number): Promise<void> {}
  async linkUp(_index: number): Promise<void> {}

  info(): LabNetInfo {
    return { mode: "none", labId: this.labId };
  }

  async destroy(): Promise<void> {}
  destroySync(): void {}
}
