-- Panel, API and security additions (issue 7).

-- Bumped on password reset, role change, disable and logout: every session token carries the epoch it was issued
-- under, so these invalidate existing sessions at once instead of waiting for the JWT to expire.
ALTER TABLE users ADD COLUMN session_epoch integer NOT NULL DEFAULT 0;

-- An API key may be narrower than its owner (a viewer key for a dashboard script); NULL = the owner's role.
ALTER TABLE api_keys ADD COLUMN role text CHECK (role IS NULL OR role IN ('admin','technician','viewer'));

-- Repeated-offender counting and the panel's security page look these up by IP and by time.
CREATE INDEX security_events_ip ON security_events (ip, ts DESC);
CREATE INDEX audit_log_action ON audit_log (action, ts DESC);

-- Job status lookups (GET /api/v1/jobs/:id) find the events of one job by its id.
CREATE INDEX modem_events_job ON modem_events ((payload->>'jobId'), seq) WHERE payload ? 'jobId';
