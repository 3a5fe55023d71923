-- lteproxy schema v1: designed for the whole appliance. Later changes come as new migrations.
-- PostgreSQL 15+. All times are timestamptz. Node ids are short text ids (one per appliance in a fleet).

CREATE TABLE nodes (
  id              text PRIMARY KEY,
  hostname        text NOT NULL,
  version         text NOT NULL DEFAULT '',
  started_at      timestamptz NOT NULL DEFAULT now(),
  last_heartbeat  timestamptz NOT NULL DEFAULT now(),
  info            jsonb NOT NULL DEFAULT '{}'
);

CREATE TABLE modems (
  id               bigserial PRIMARY KEY,
  node_id          text NOT NULL REFERENCES nodes(id),
  imei             text NOT NULL CHECK (imei ~ '^[0-9]{14,16}$'),
  iccid            text,
  imsi             text,
  manufacturer     text,
  model            text,
  firmware         text,
  -- physical identity: the USB path tag udev gives (ID_PATH_TAG); EC25s have no USB serial number
  slot             text,
  hub              text,
  at_path          text,
  qmi_path         text,
  ifname           text,
  usb_device       text,
  state            text NOT NULL DEFAULT 'detected' CHECK (state IN (
                     'detected','identifying','searching','registered','connecting','online',
                     'degraded','healing','rotating','offline','unplugged','failed','disabled')),
  state_reason     text,
  state_since      timestamptz NOT NULL DEFAULT now(),
  sim_state        text,
  operator         text,
  operator_code    text,
  registration     text,
  rat              text,
  band             text,
  cell_id          text,
  csq              integer,
  rssi             integer,
  rsrp             integer,
  rsrq             integer,
  sinr_raw         integer,
  temperature      integer,
  wan_ip           inet,
  wan_prefix       integer,
  dns              inet[],
  mtu              integer,
  public_ip        inet,
  rtt_ms           double precision,
  data_session     jsonb,
  proxy_port       integer CHECK (proxy_port BETWEEN 1 AND 65535),
  route_table      integer CHECK (route_table BETWEEN 1 AND 4294967295),
  proxy_enabled    boolean NOT NULL DEFAULT true,
  rotation_token_hash text,
  rotation_method  text NOT NULL DEFAULT 'airplane' CHECK (rotation_method IN ('data','airplane','reboot')),
  rotation_schedule text,
  last_rotation_at timestamptz,
  bytes_tx         bigint NOT NULL DEFAULT 0,
  bytes_rx         bigint NOT NULL DEFAULT 0,
  health           jsonb NOT NULL DEFAULT '{}',
  last_seen_at     timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (node_id, imei),
  UNIQUE (node_id, proxy_port),
  UNIQUE (node_id, route_table)
);
CREATE INDEX modems_node_state ON modems (node_id, state);
CREATE UNIQUE INDEX modems_rotation_token ON modems (rotation_token_hash) WHERE rotation_token_hash IS NOT NULL;

-- Event log. seq is gapless and commit-ordered: a BEFORE INSERT trigger takes it from event_counter under a
-- row lock held until commit, so a reader that fetches "seq > last" never skips an event committed later.
CREATE TABLE event_counter (
  id   boolean PRIMARY KEY DEFAULT true CHECK (id),
  seq  bigint NOT NULL
);
INSERT INTO event_counter (id, seq) VALUES (true, 0);

CREATE TABLE modem_events (
  seq         bigint PRIMARY KEY,
  node_id     text REFERENCES nodes(id),
  modem_id    bigint REFERENCES modems(id) ON DELETE SET NULL,
  kind        text NOT NULL,
  payload     jsonb NOT NULL DEFAULT '{}',
  created_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX modem_events_modem ON modem_events (modem_id, seq);
CREATE INDEX modem_events_kind ON modem_events (kind, seq);
CREATE INDEX modem_events_created ON modem_events USING brin (created_at);

CREATE FUNCTION lteproxy_event_seq() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE event_counter SET seq = seq + 1 WHERE id RETURNING seq INTO NEW.seq;
  RETURN NEW;
END $$;
CREATE TRIGGER modem_events_seq BEFORE INSERT ON modem_events
  FOR EACH ROW EXECUTE FUNCTION lteproxy_event_seq();

-- Payloads carry only the sequence number / id: readers fetch rows, which gives ordering and replay
-- and never depends on NOTIFY's 8000-byte payload limit.
CREATE FUNCTION lteproxy_notify_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('lteproxy_events', NEW.seq::text);
  RETURN NULL;
END $$;
CREATE TRIGGER modem_events_notify AFTER INSERT ON modem_events
  FOR EACH ROW EXECUTE FUNCTION lteproxy_notify_event();

CREATE FUNCTION lteproxy_notify_modem() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' OR NEW.state IS DISTINCT FROM OLD.state THEN
    PERFORM pg_notify('lteproxy_modems', NEW.id::text);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER modems_notify AFTER INSERT OR UPDATE OF state ON modems
  FOR EACH ROW EXECUTE FUNCTION lteproxy_notify_modem();

-- Time series of health checks. BRIN on ts keeps retention deletes ("ts < now() - 7 days") cheap.
CREATE TABLE health_samples (
  id           bigserial PRIMARY KEY,
  modem_id     bigint NOT NULL REFERENCES modems(id) ON DELETE CASCADE,
  ts           timestamptz NOT NULL DEFAULT now(),
  ok           boolean NOT NULL,
  csq          integer,
  rsrp         integer,
  rsrq         integer,
  sinr_raw     integer,
  temperature  integer,
  rtt_ms       double precision,
  public_ip    inet,
  bytes_tx     bigint,
  bytes_rx     bigint,
  error        text
);
CREATE INDEX health_samples_ts ON health_samples USING brin (ts);
CREATE INDEX health_samples_modem_ts ON health_samples (modem_id, ts DESC);

CREATE TABLE rotations (
  id            bigserial PRIMARY KEY,
  job_id        uuid NOT NULL UNIQUE,
  node_id       text NOT NULL REFERENCES nodes(id),
  modem_id      bigint NOT NULL REFERENCES modems(id) ON DELETE CASCADE,
  method        text NOT NULL CHECK (method IN ('data','airplane','reboot')),
  trigger       text NOT NULL CHECK (trigger IN ('manual','api','link','schedule','heal')),
  requested_by  text,
  status        text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued','running','done')),
  result        text CHECK (result IN ('OK','SAME_IP','COLLISION','FAILED','CANCELLED')),
  old_ip        inet,
  new_ip        inet,
  attempts      integer NOT NULL DEFAULT 0,
  error         text,
  started_at    timestamptz NOT NULL DEFAULT now(),
  finished_at   timestamptz,
  duration_ms   integer
);
CREATE INDEX rotations_modem ON rotations (modem_id, started_at DESC);
CREATE INDEX rotations_started ON rotations (started_at DESC);

-- Proxy credentials. modem_id NULL = valid on every port of the node. The password is kept so that the panel and
-- `lteproxy proxies` can show what to wire into a tool; the engines only ever receive the hash.
CREATE TABLE proxy_users (
  id             bigserial PRIMARY KEY,
  node_id        text REFERENCES nodes(id),
  modem_id       bigint REFERENCES modems(id) ON DELETE CASCADE,
  username       text NOT NULL CHECK (username ~ '^[A-Za-z0-9._-]{1,64}$'),
  password       text NOT NULL,
  password_hash  text NOT NULL,
  quota_mb       integer,
  bandwidth_bps  bigint,
  enabled        boolean NOT NULL DEFAULT true,
  created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX proxy_users_scope ON proxy_users (coalesce(node_id, ''), coalesce(modem_id, 0), username);

CREATE TABLE connection_log (
  id           bigserial PRIMARY KEY,
  node_id      text NOT NULL,
  modem_id     bigint REFERENCES modems(id) ON DELETE SET NULL,
  imei         text,
  port         integer NOT NULL,
  ts           timestamptz NOT NULL,
  client_ip    inet,
  client_port  integer,
  username     text,
  target_host  text,
  target_port  integer,
  bytes_up     bigint NOT NULL DEFAULT 0,
  bytes_down   bigint NOT NULL DEFAULT 0,
  duration_ms  integer,
  result       text NOT NULL,
  engine       text NOT NULL DEFAULT 'builtin'
);
CREATE INDEX connection_log_ts ON connection_log USING brin (ts);
CREATE INDEX connection_log_modem ON connection_log (modem_id, ts DESC);

CREATE TABLE users (
  id             bigserial PRIMARY KEY,
  username       text NOT NULL UNIQUE CHECK (username ~ '^[A-Za-z0-9._@-]{1,64}$'),
  password_hash  text NOT NULL,
  role           text NOT NULL CHECK (role IN ('admin','technician','viewer')),
  disabled       boolean NOT NULL DEFAULT false,
  failed_logins  integer NOT NULL DEFAULT 0,
  locked_until   timestamptz,
  must_change_password boolean NOT NULL DEFAULT false,
  created_at     timestamptz NOT NULL DEFAULT now(),
  last_login_at  timestamptz
);

CREATE TABLE api_keys (
  id            bigserial PRIMARY KEY,
  user_id       bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name          text NOT NULL,
  prefix        text NOT NULL UNIQUE,
  key_hash      text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_used_at  timestamptz,
  revoked_at    timestamptz
);

CREATE TABLE jwt_keys (
  kid         text PRIMARY KEY,
  secret      text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  retired_at  timestamptz
);

CREATE TABLE audit_log (
  id        bigserial PRIMARY KEY,
  ts        timestamptz NOT NULL DEFAULT now(),
  node_id   text,
  user_id   bigint REFERENCES users(id) ON DELETE SET NULL,
  actor     text NOT NULL,
  action    text NOT NULL,
  target    text,
  result    text NOT NULL DEFAULT 'ok',
  ip        inet,
  details   jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_ts ON audit_log (ts DESC);

CREATE TABLE security_events (
  id        bigserial PRIMARY KEY,
  ts        timestamptz NOT NULL DEFAULT now(),
  kind      text NOT NULL,
  username  text,
  ip        inet,
  details   jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX security_events_ts ON security_events (ts DESC);

CREATE TABLE ip_blocks (
  ip          inet PRIMARY KEY,
  reason      text NOT NULL,
  blocked_until timestamptz NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  lifted_by   text
);

-- node_id '' = fleet-wide default; a node's own row overrides it.
CREATE TABLE settings (
  node_id     text NOT NULL DEFAULT '',
  key         text NOT NULL,
  value       jsonb NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  updated_by  text,
  PRIMARY KEY (node_id, key)
);

CREATE TABLE alerts (
  id               bigserial PRIMARY KEY,
  node_id          text NOT NULL REFERENCES nodes(id),
  kind             text NOT NULL,
  severity         text NOT NULL CHECK (severity IN ('info','warning','critical')),
  scope            text NOT NULL CHECK (scope IN ('modem','hub','system')),
  modem_id         bigint REFERENCES modems(id) ON DELETE CASCADE,
  hub              text,
  dedup_key        text NOT NULL,
  message          text NOT NULL,
  details          jsonb NOT NULL DEFAULT '{}',
  occurrences      integer NOT NULL DEFAULT 1,
  opened_at        timestamptz NOT NULL DEFAULT now(),
  last_seen_at     timestamptz NOT NULL DEFAULT now(),
  acknowledged_at  timestamptz,
  acknowledged_by  text,
  resolved_at      timestamptz
);
-- one open alert per dedup key: a repeat bumps occurrences instead of opening another
CREATE UNIQUE INDEX alerts_open_dedup ON alerts (node_id, dedup_key) WHERE resolved_at IS NULL;

CREATE TABLE job_runs (
  id           bigserial PRIMARY KEY,
  node_id      text NOT NULL,
  job_id       text NOT NULL,
  started_at   timestamptz NOT NULL DEFAULT now(),
  finished_at  timestamptz,
  duration_ms  integer,
  result       text,
  error        text
);
CREATE INDEX job_runs_job ON job_runs (job_id, started_at DESC);

CREATE TABLE sms_messages (
  id           bigserial PRIMARY KEY,
  modem_id     bigint NOT NULL REFERENCES modems(id) ON DELETE CASCADE,
  direction    text NOT NULL CHECK (direction IN ('in','out')),
  peer         text NOT NULL,
  body         text NOT NULL,
  modem_index  integer,
  status       text NOT NULL DEFAULT 'received',
  sent_at      timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sms_messages_modem ON sms_messages (modem_id, created_at DESC);
