-- title: Switched off in the identity provider, still on Heroku
-- severity: high
-- fix: remove-all-access
-- certify: revoke
-- frees-seat: true
-- saving-reason: deprovisioned
-- confidence: high
-- description: The identity provider (Okta, Entra ID or Google Workspace export) reports this person
--   suspended or deprovisioned, or does not list them although it covers their email domain, yet
--   they still hold Heroku access: a team seat, Enterprise Account membership, a pending
--   invitation or an app grant. Heroku has no SCIM: switching someone off in the identity
--   provider removes them from nothing, and their personal tokens keep working. A person is a
--   Heroku user id (`people`: an email Heroku shows with no user id is a person of its own), so
--   their access is gathered under every email Heroku shows for them; the identity provider's
--   rows carry no Heroku id and are matched by email, under any of those emails: a person is
--   absent only when no email of theirs is in an export that covers one of their domains. When a
--   team or account was not read, the finding stands and says so: the person may hold access
--   there too.
-- remediation: Remove every listed access (`heroku members:remove EMAIL --team TEAM`,
--   `heroku access:remove EMAIL --app APP`, revoke pending invitations, remove them from the
--   Enterprise Account), and ask them, or Heroku support, to revoke their OAuth authorizations.
-- tables: team_members, enterprise_members, team_invitations, app_permissions, idp_users, idp_domains, people
-- gap_scope: person
-- requires: idp
WITH grants AS (
  SELECT email_norm, 'team ' || team_name || ' (' || role || ')' AS access FROM team_members
  UNION ALL
  SELECT email_norm, 'enterprise account ' || enterprise_account_name AS access FROM enterprise_members
  UNION ALL
  SELECT email_norm, 'invitation to team ' || team_name AS access FROM team_invitations
  UNION ALL
  SELECT email_norm, 'collaborator on app ' || app_name AS access FROM app_permissions
  WHERE ARRAY_CONTAINS(sources, 'explicit') OR ARRAY_CONTAINS(sources, 'personal-collaborator')
),
-- Each export's view of every email of everyone.
listed AS (
  SELECT p.person, p.email_norm, u.source, u.status
  FROM people p
  JOIN idp_users u ON u.email_norm = p.email_norm
),
present AS (
  SELECT DISTINCT person, source FROM listed
),
-- Absent from an export that covers one of their domains, under every email they have.
absent AS (
  SELECT p.person, d.source, MIN(p.email_norm) AS email_norm
  FROM people p
  JOIN idp_domains d ON SPLIT_PART(p.email_norm, '@', 2) = d.domain
  LEFT JOIN present x ON x.person = p.person AND x.source = d.source
  WHERE x.person IS NULL
  GROUP BY p.person, d.source
),
flagged AS (
  SELECT person, email_norm, status, source FROM listed WHERE status IN ('suspended', 'deprovisioned')
  UNION ALL
  SELECT person, email_norm, 'absent' AS status, source FROM absent
),
-- What they hold, under every email of theirs; only people switched off need it.
holders AS (
  SELECT p.person, ARRAY_TO_STRING(ARRAY_AGG(g.access ORDER BY g.access), '; ') AS access
  FROM grants g
  JOIN people p ON p.email_norm = g.email_norm
  JOIN (SELECT DISTINCT person FROM flagged) f ON f.person = p.person
  GROUP BY p.person
)
SELECT
  SPLIT_PART(f.source, ':', 1) AS item,
  p.email,
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
JOIN holders h ON h.person = f.person
JOIN people p ON p.email_norm = f.email_norm
LEFT JOIN idp_users u ON u.email_norm = f.email_norm AND u.source = f.source
