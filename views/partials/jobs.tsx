import type { EventRow } from "../../src/db/queries/events.ts";
import { ts } from "../components/format.ts";

export interface JobView {
  jobId: string;
  action: string;
  status: string;
  result?: string | null;
  message?: string | null;
  at: Date;
}

/** Job progress from an event whose payload carries { jobId, status?, result?, message?, action? }. */
export function jobFromEvent(e: EventRow): JobView | null {
  const p = e.payload ?? {};
  if (typeof p.jobId !== "string") return null;
  const str = (k: string) => (typeof p[k] === "string" ? (p[k] as string) : null);
  return {
    jobId: p.jobId,
    action: str("action") ?? e.kind,
    status: str("status") ?? (str("result") ? "done" : "running"),
    result: str("result"),
    message: str("message") ?? str("step") ?? str("error"),
    at: new Date(e.created_at),
  };
}

/** The DOM id of a job's progress line (job ids are UUIDs; anything else is reduced to safe characters). */
export function jobDomId(jobId: string): string {
  return `job-${jobId.replace(/[^A-Za-z0-9_-]/g, "").slice(0, 64)}`;
}

/** One line of live progress for an action; replaced in place by later events of the same job. */
export function JobLine({ j }: { j: JobView }): JSX.Element {
  const cls = j.status === "done" ? (j.result && j.result !== "OK" ? "job-bad" : "job-ok") : "job-running";
  return (
    <li id={jobDomId(j.jobId)} class={`job ${cls}`}>
      <time class="mono muted" safe>{ts(j.at)}</time> <b safe>{j.action}</b> <span safe>{j.status}</span>
      {j.result ? <span class="mono" safe>{` ${j.result}`}</span> : ""}
      {j.message ? <span class="muted" safe>{` · ${j.message}`}</span> : ""}
      {j.status !== "done" ? <span class="spinner" aria-hidden="true"></span> : ""}
    </li>
  );
}
