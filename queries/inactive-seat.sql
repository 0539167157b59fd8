-- title: Paid seat with no recent activity
-- severity: medium
-- fix: remove-team-member
-- certify: revoke
-- frees-seat: true
-- saving-reason: inactive
-- confidence: medium
-- description: A team member holds a paid seat (admin, member or viewer) but has made no release,
--   no build and no audit-trail action for more than `inactive_days` days, and joined the team
--   longer ago than that. Heroku has no last-login report for other users, so this is the best
--   evidence of use there is: someone who only reads dashboards looks inactive too. Activity is
--   anyone's, anywhere: when some of it was not read (a team's or an app's releases, an audit
--   trail), each finding stands and says where the person may also have been active.
-- remediation: Ask the member whether they still need access; if not, remove them
--   (`heroku members:remove EMAIL --team TEAM`), which frees the seat at once. Keep a deliberate
--   read-only seat by ignoring the finding in hkaudit.toml with a reason.
-- tables: team_members, activity
-- params: as_of_epoch, inactive_days, seat_price_cents
-- gap_scope: team
-- by_person: activity
-- exempt: service_accounts
WITH last_seen AS (
  SELECT user_email_norm, MAX(EXTRACT(EPOCH FROM at)) AS last_epoch, MAX(at) AS last_activity
  FROM activity
  WHERE user_email_norm IS NOT NULL
  GROUP BY user_email_norm
)
SELECT
  m.team_id,
  m.team_name,
  m.email,
  m.role,
  m.created_at AS member_since,
  l.last_activity,
  CAST(FLOOR((${as_of_epoch} - l.last_epoch) / 86400) AS BIGINT) AS days_inactive,
  ${seat_price_cents} AS monthly_cost_cents,
  CASE
    WHEN l.last_epoch IS NULL THEN 'No release, build or audit-trail action in the whole activity window'
    ELSE 'No release, build or audit-trail action for more than ${inactive_days} days'
  END AS message
FROM team_members m
LEFT JOIN last_seen l ON m.email_norm = l.user_email_norm
WHERE m.role IN ('admin', 'member', 'viewer')
  AND (m.created_at IS NULL OR EXTRACT(EPOCH FROM m.created_at) < ${as_of_epoch} - ${inactive_days} * 86400)
  AND (l.last_epoch IS NULL OR l.last_epoch < ${as_of_epoch} - ${inactive_days} * 86400)
