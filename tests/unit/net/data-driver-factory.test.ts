import { expect, test } from "bun:test";
import { hasCode } from "../../../src/lib/errors.ts";
import { AtRmnetDriver, createDataConnectionDriver, QmiDriver } from "../../../src/net/data-connection/index.ts";

const base = { qmicli: "qmicli", udhcpc: "udhcpc", runtimeDir: "/tmp/lteproxy-test-run" };

test("net.driver picks the implementation; none means no data plane; anything else is a config error", () => {
  const qmi = createDataConnectionDriver({ ...base, driver: "qmi" });
  expect(qmi).toBeInstanceOf(QmiDriver);
  expect(qmi?.name).toBe("qmi");
  const rmnet = createDataConnectionDriver({ ...base, driver: "at-rmnet" });
  expect(rmnet).toBeInstanceOf(AtRmnetDriver);
  expect(rmnet?.name).toBe("at-rmnet");
  expect(createDataConnectionDriver({ ...base, driver: "none" })).toBeUndefined();
  let caught: unknown;
  try {
    createDataConnectionDriver({ ...base, driver: "ppp" as "qmi" });
  } catch (e) {
    caught = e;
  }
  expect(hasCode(caught, "CONFIG_INVALID")).toBe(true);
});
