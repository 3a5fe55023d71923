/**
 * The qmi endpoint of one simulated modem: a unix socket at <devRoot>/cdc-wdmN (DIR/<slot>/qmi links to it). The lab
 * qmicli sends one JSON line {argv} and gets one JSON line {stdout, stderr, code} back.
 */
import fs from "node:fs";
import type { Socket, UnixSocketListener } from "bun";
import type { QmiRun } from "./exec.ts";

const MAX_REQUEST = 64 * 1024;

interface ConnState {
  buf: string;
  done: boolean;
}

export class QmiSocketServer {
  private constructor(private readonly listener: UnixSocketListener<ConnState>, readonly path: string) {}

  static listen(path: string, handle: (argv: string[]) => Promise<QmiRun>): QmiSocketServer {
    fs.rmSync(path, { force: true });
    const reply = (socket: Socket<ConnState>, run: QmiRun) => {
      socket.write(`${JSON.stringify(run)}\n`);
      socket.end();
    };
    const listener = Bun.listen<ConnState>({
      unix: path,
      socket: {
        open(socket) {
          socket.data = { buf: "", done: false };
        },
        data(socket, chunk) {
          const st = socket.data;
          if (st.done) return;
          st.buf += chunk.toString();
          if (st.buf.length > MAX_REQUEST) {
            st.done = true;
            return reply(socket, { stdout: "", stderr: "error: request too large\n", code: 1 });
          }
          const nl = st.buf.indexOf("\n");
          if (nl < 0) return;
          st.done = true;
          let argv: string[];
          try {
            const req = JSON.parse(st.buf.slice(0, nl)) as { argv?: unknown };
            if (!Array.isArray(req.argv) || !req.argv.every((a) => typeof a === "string")) throw new Error("bad argv");
            argv = req.argv as string[];
          } catch {
            return reply(socket, { stdout: "", stderr: "error: malformed request\n", code: 1 });
          }
          handle(argv).then(
            (run) => reply(socket, run),
            (error) => reply(socket, { stdout: "", stderr: `error: operation failed: ${String(error)}\n`, code: 1 }),
          );
        },
        error() { /* client went away */ },
      },
    });
    return new QmiSocketServer(listener, path);
  }

  /** The endpoint vanishes (reboot, unplug): pending requests are cut off. */
  stop(): void {
    this.listener.stop(true);
    fs.rmSync(this.path, { force: true });
  }
}
