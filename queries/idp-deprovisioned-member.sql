-- title: Switched off in the identity provider, still on Heroku
-- severity: high
-- confidence: high
-- description: The identity provider (Okta, Entra ID or Google Workspace export) reports this person
--   suspended or deprovisioned, or does not list them although it covers their email domain, yet
--   they still hold Heroku access: a team seat, Enterprise Account membership, a pending
--   invitation or an app grant. Heroku has no SCIM: switching someone off in the identity
--   provider removes them from nothing, and their personal tokens keep working.
-- remediation: Remove every listed access (`heroku members:remove EMAIL --team TEAM`,
--   `heroku access:remove EMAIL --app APP`, revoke pending invitations, remove them from the
--   Enterprise Account), and ask them, or Heroku support, to revoke their OAuth authorizations.
-- tables: team_members, enterprise_members, team_invitations, app_permissions, idp_users, idp_domains
-- gap_scope: global
-- requires: idp
WITH grants AS (
  SELECT email_norm, email, 'team ' || team_name || ' (' || role || ')' AS access FROM team_members
  UNION ALL
  SELECT email_norm, email, 'enterprise account ' || enterprise_account_name AS access FROM enterprise_members
  UNION ALL
  SELECT email_norm, email, 'invitation to team ' || team_name AS access FROM team_invitations
  UNION ALL
  SELECT email_norm, email, 'collaborator on app ' || app_name AS access FROM app_permissions
  WHERE ARRAY_CONTAINS(sources, 'explicit') OR ARRAY_CONTAINS(sources, 'personal-collaborator')
),
holders AS (
  SELECT email_norm, MIN(email) AS email, ARRAY_TO_STRING(ARRAY_AGG(access ORDER BY access), '; ') AS access
  FROM grants
  GROUP BY email_norm
),
flagged AS (
  SELECT email_norm, status, source FROM idp_users WHERE status IN ('suspended', 'deprovisioned')
  UNION ALL
  SELECT h.email_norm, 'absent' AS status, d.source
  FROM holders h
  JOIN idp_domains d ON SPLIT_PART(h.email_norm, '@', 2) = d.domain
  LEFT JOIN idp_users u ON u.email_norm = h.email_norm AND u.source = d.source
  WHERE u.email_norm IS NULL
)
SELECT
  SPLIT_PART(f.source, ':', 1) AS item,
  h.email,
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
JOIN holders h ON h.email_norm = f.email_norm
LEFT JOIN idp_users u ON u.email_norm = f.email_norm AND u.source = f.source
