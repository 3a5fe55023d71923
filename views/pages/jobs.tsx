import { Layout, type PageUser } from "../layout.tsx";
import type { JobInfo } from "../../src/http/context.ts";
import { ms, ts } from "../components/format.ts";

export function JobRow({ j, canRun, note }: { j: JobInfo; canRun: boolean; note?: string }): JSX.Element {
  const lastAt: string = j.lastRun ? ts(j.lastRun.startedAt) : "never";
  const took: string = j.lastRun ? ms(j.lastRun.durationMs) : "–";
  return (
    <tr id={`jobrow-${j.id.replace(/[^A-Za-z0-9_-]/g, "")}`}>
      <td class="mono" safe>{j.id}</td>
      <td safe>{j.description}</td>
      <td class="mono" safe>{j.schedule}</td>
      <td class="mono" safe>{ts(j.nextRunAt)}</td>
      <td class="mono" safe>{lastAt}</td>
      <td class="num" safe>{took}</td>
      <td safe>{j.running ? "running" : (j.lastRun?.result ?? "–")}</td>
      <td class="muted" safe>{note ?? j.lastRun?.error ?? ""}</td>
      <td>{canRun ? <button hx-post={`/jobs/${encodeURIComponent(j.id)}/run`} hx-target="closest tr" hx-swap="outerHTML" hx-disable="this">Run now</button> : ""}</td>
    </tr>
  );
}

export function JobsPage(p: { jobs: JobInfo[]; canRun: boolean; live: boolean; user: PageUser; nodeId: string; banner?: string }): JSX.Element {
  return (
    <Layout title="Jobs" user={p.user} nodeId={p.nodeId} banner={p.banner} active="jobs">
      <h1>Jobs</h1>
      {p.live ? "" : <p class="muted">The scheduler is not attached to this panel: showing the last recorded runs; run-now is unavailable.</p>}
      <table class="grid dense">
        <thead><tr><th>Job</th><th>What</th><th>Schedule</th><th>Next run</th><th>Last run</th><th>Took</th><th>Result</th><th>Error</th><th></th></tr></thead>
        <tbody>
          {p.jobs.length === 0 ? <tr><td colspan="9" class="muted">No jobs recorded yet.</td></tr> : p.jobs.map((j) => <JobRow j={j} canRun={p.canRun && p.live} />)}
        </tbody>
      </table>
    </Layout>
  );
}
