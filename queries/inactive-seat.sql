-- title: Paid seat with no recent activity
-- severity: medium
-- fix: remove-team-member
-- certify: revoke
-- frees-seat: true
-- saving-reason: inactive
-- confidence: medium
-- description: A team member holds a paid seat (admin, member or viewer) but has made no release,
--   no build, no audit-trail action and no successful sign-in to Heroku through the identity
--   provider (`--signins` logs) for more than `inactive_days` days, and joined the team longer ago
--   than that. Evidence names the last signal and its source (`last_signal`). Confidence is high
--   only when a sign-in log covers the member: its first event is at least `inactive_days` before
--   the snapshot and its last within a day of it, the member signs in through SSO (Heroku reports
--   them `federated`), and that identity provider knows them (its `--idp` users export or the log
--   itself lists them). Otherwise it is medium and the message says why: without such a log only
--   deploy activity was seen, and someone who only reads dashboards looks inactive. A shorter log
--   can clear a seat (a sign-in in it is use) but never condemns one. Sign-ins to other
--   applications are not read. The IdP users exports' own last-login columns (Okta `lastLogin`,
--   Google `Last Sign In`, Entra `signInActivity`) are sign-ins to the identity provider, not to
--   Heroku: they are shown as context (`idp_last_login`), never used to clear a seat. Activity is
--   anyone's, anywhere: when some of it was not read (a team's or an app's releases, an audit
--   trail), each finding stands and says where the person may also have been active.
-- remediation: Ask the member whether they still need access; if not, remove them
--   (`heroku members:remove EMAIL --team TEAM`), which frees the seat at once. Keep a deliberate
--   read-only seat by ignoring the finding in hkaudit.toml with a reason.
-- tables: team_members, activity, signins, signin_logs
-- evidence: idp_users
-- params: as_of_epoch, inactive_days, seat_price_cents
-- gap_scope: team
-- by_person: activity
-- exempt: service_accounts
WITH signals AS (
  SELECT
    user_email_norm AS email_norm,
    MAX(at) AS at,
    CASE kind WHEN 'release' THEN 'release' WHEN 'build' THEN 'build' ELSE 'audit-trail action' END
      || CASE WHEN app_name IS NULL THEN '' ELSE ' of ' || app_name END AS what
  FROM activity
  WHERE user_email_norm IS NOT NULL AND at IS NOT NULL
  GROUP BY user_email_norm, kind, app_name
  UNION ALL
  SELECT s.email_norm, s.at, 'sso sign-in via ' || l.idp AS what
  FROM (
    SELECT email_norm, source, MAX(at) AS at
    FROM signins
    WHERE outcome = 'success' AND email_norm IS NOT NULL
    GROUP BY email_norm, source
  ) s
  JOIN signin_logs l ON s.source = l.source
),
latest AS (
  SELECT email_norm AS latest_email, MAX(at) AS latest_at FROM signals GROUP BY email_norm
),
last_seen AS (
  SELECT
    email_norm,
    at AS last_activity,
    EXTRACT(EPOCH FROM at) AS last_epoch,
    what || ' ' || STRFTIME(at, '%Y-%m-%dT%H:%M:%SZ') AS last_signal
  FROM (
    SELECT g.email_norm, g.at, MIN(g.what) AS what
    FROM signals g
    JOIN latest l ON g.email_norm = l.latest_email AND g.at = l.latest_at
    GROUP BY g.email_norm, g.at
  ) t
),
long_logs AS (
  SELECT idp, heroku_rows
  FROM signin_logs
  WHERE EXTRACT(EPOCH FROM first_at) <= ${as_of_epoch} - ${inactive_days} * 86400
    AND EXTRACT(EPOCH FROM last_at) >= ${as_of_epoch} - 86400
),
covering AS (
  SELECT DISTINCT idp FROM long_logs WHERE heroku_rows > 0
),
known AS (
  SELECT DISTINCT email_norm, SPLIT_PART(source, ':', 1) AS idp FROM idp_users
  UNION ALL
  SELECT DISTINCT s.email_norm, l.idp
  FROM (SELECT DISTINCT email_norm, source FROM signins) s
  JOIN signin_logs l ON s.source = l.source
),
covered AS (
  SELECT k.email_norm, MIN(c.idp) AS covered_by
  FROM known k
  JOIN covering c ON k.idp = c.idp
  GROUP BY k.email_norm
),
logs AS (
  SELECT a.given, b.long_enough, c.covering
  FROM (SELECT COUNT(*) AS given FROM signin_logs) a
  CROSS JOIN (SELECT COUNT(*) AS long_enough FROM long_logs) b
  CROSS JOIN (SELECT COUNT(*) AS covering FROM covering) c
),
idp_login AS (
  SELECT email_norm, idp || ' ' || STRFTIME(at, '%Y-%m-%dT%H:%M:%SZ') || ' (a sign-in to the identity provider, not to Heroku)' AS idp_last_login
  FROM (
    SELECT u.email_norm, u.last_login_at AS at, MIN(SPLIT_PART(u.source, ':', 1)) AS idp
    FROM idp_users u
    JOIN (SELECT email_norm AS login_email, MAX(last_login_at) AS login_at FROM idp_users GROUP BY email_norm) x
      ON u.email_norm = x.login_email AND u.last_login_at = x.login_at
    GROUP BY u.email_norm, u.last_login_at
  ) t
)
SELECT
  m.team_id,
  m.team_name,
  m.email,
  m.role,
  m.created_at AS member_since,
  l.last_activity,
  l.last_signal,
  CAST(FLOOR((${as_of_epoch} - l.last_epoch) / 86400) AS BIGINT) AS days_inactive,
  i.idp_last_login,
  ${seat_price_cents} AS monthly_cost_cents,
  CASE WHEN m.federated = true AND c.covered_by IS NOT NULL THEN 'high' ELSE 'medium' END AS confidence,
  CASE
    WHEN l.last_epoch IS NULL THEN 'No release, build, audit-trail action or Heroku sign-in in the whole activity window'
    ELSE 'No release, build, audit-trail action or Heroku sign-in for more than ${inactive_days} days'
  END || CASE
    WHEN m.federated = true AND c.covered_by IS NOT NULL
      THEN ' (the ' || c.covered_by || ' sign-in log covers the whole period)'
    WHEN g.given = 0 THEN '; no sign-in log covers this member: only deploy activity was seen'
    WHEN g.long_enough = 0 THEN '; no sign-in log covers this member: the sign-in logs cover fewer than the last ${inactive_days} days (they can clear a seat, not condemn one)'
    WHEN g.covering = 0 THEN '; no sign-in log covers this member: the logs that cover the period hold no sign-in to the Heroku application (see --signin-app)'
    WHEN m.federated IS NULL OR m.federated = false THEN '; no sign-in log covers this member: Heroku does not report them as signing in through SSO, so the identity provider may not see their sign-ins'
    ELSE '; no sign-in log covers this member: no identity provider whose log covers the period lists them'
  END AS message
FROM team_members m
CROSS JOIN logs g
LEFT JOIN last_seen l ON m.email_norm = l.email_norm
LEFT JOIN covered c ON m.email_norm = c.email_norm
LEFT JOIN idp_login i ON m.email_norm = i.email_norm
WHERE m.role IN ('admin', 'member', 'viewer')
  AND (m.created_at IS NULL OR EXTRACT(EPOCH FROM m.created_at) < ${as_of_epoch} - ${inactive_days} * 86400)
  AND (l.last_epoch IS NULL OR l.last_epoch < ${as_of_epoch} - ${inactive_days} * 86400)
