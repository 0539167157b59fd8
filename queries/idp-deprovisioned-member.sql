-- title: Switched off in the identity provider, still on Heroku
-- severity: high
-- confidence: high
-- description: The identity provider (Okta, Entra ID or Google Workspace export) reports this person
--   suspended or deprovisioned, or does not list them although it covers their email domain, yet
--   they still hold Heroku access: a team seat, Enterprise Account membership, a pending
--   invitation or an app grant. Heroku has no SCIM: switching someone off in the identity
--   provider removes them from nothing, and their personal tokens keep working. A person is one
--   Heroku user id across every list (by email where a row has no user id), so their access is
--   gathered under every email Heroku shows for them; the identity provider's rows carry no
--   Heroku id and are matched by email, under any of those emails. When a team or account was
--   not read, the finding stands and says so: the person may hold access there too.
-- remediation: Remove every listed access (`heroku members:remove EMAIL --team TEAM`,
--   `heroku access:remove EMAIL --app APP`, revoke pending invitations, remove them from the
--   Enterprise Account), and ask them, or Heroku support, to revoke their OAuth authorizations.
-- tables: team_members, enterprise_members, team_invitations, app_permissions, idp_users, idp_domains
-- gap_scope: person
-- requires: idp
WITH grants AS (
  SELECT user_id, email_norm, email, 'team ' || team_name || ' (' || role || ')' AS access FROM team_members
  UNION ALL
  SELECT user_id, email_norm, email, 'enterprise account ' || enterprise_account_name AS access FROM enterprise_members
  UNION ALL
  SELECT user_id, email_norm, email, 'invitation to team ' || team_name AS access FROM team_invitations
  UNION ALL
  SELECT user_id, email_norm, email, 'collaborator on app ' || app_name AS access FROM app_permissions
  WHERE ARRAY_CONTAINS(sources, 'explicit') OR ARRAY_CONTAINS(sources, 'personal-collaborator')
),
-- One person per Heroku user id; a row without one belongs to the user with that email.
ids AS (
  SELECT email_norm, MIN(user_id) AS user_id FROM grants WHERE user_id IS NOT NULL GROUP BY email_norm
),
keyed AS (
  SELECT COALESCE(g.user_id, i.user_id, 'email:' || g.email_norm) AS person, g.email_norm, g.email, g.access
  FROM grants g
  LEFT JOIN ids i ON i.email_norm = g.email_norm
  WHERE g.email_norm IS NOT NULL
),
emails AS (
  SELECT person, email_norm, MIN(email) AS email FROM keyed GROUP BY person, email_norm
),
holders AS (
  SELECT person, ARRAY_TO_STRING(ARRAY_AGG(access ORDER BY access), '; ') AS access
  FROM (SELECT DISTINCT person, access FROM keyed)
  GROUP BY person
),
present AS (
  SELECT DISTINCT e.person, u.source FROM emails e JOIN idp_users u ON u.email_norm = e.email_norm
),
-- Absent from an export that covers one of their domains, under every email they have.
absent AS (
  SELECT e.person, d.source, MIN(e.email_norm) AS email_norm
  FROM emails e
  JOIN idp_domains d ON SPLIT_PART(e.email_norm, '@', 2) = d.domain
  LEFT JOIN present p ON p.person = e.person AND p.source = d.source
  WHERE p.person IS NULL
  GROUP BY e.person, d.source
),
flagged AS (
  SELECT e.person, e.email_norm, u.status, u.source
  FROM emails e
  JOIN idp_users u ON u.email_norm = e.email_norm
  WHERE u.status IN ('suspended', 'deprovisioned')
  UNION ALL
  SELECT person, email_norm, 'absent' AS status, source FROM absent
)
SELECT
  SPLIT_PART(f.source, ':', 1) AS item,
  e.email,
  f.status AS idp_status,
  f.source AS idp_export,
  u.status_changed_at AS idp_status_changed_at,
  u.last_login_at AS idp_last_login_at,
  h.access,
  CASE
    WHEN f.status = 'absent' THEN 'Not in the ' || SPLIT_PART(f.source, ':', 1) || ' export, which covers their domain, but still holds Heroku access'
    ELSE f.status || ' in ' || SPLIT_PART(f.source, ':', 1) || ' but still holds Heroku access'
  END AS message
FROM flagged f
JOIN emails e ON e.person = f.person AND e.email_norm = f.email_norm
JOIN holders h ON h.person = f.person
LEFT JOIN idp_users u ON u.email_norm = f.email_norm AND u.source = f.source
