-- title: Live OAuth authorization of someone who has left
-- severity: high
-- confidence: medium
-- description: An OAuth authorization (read from the API for the audit identity, or from a user's
--   `heroku authorizations --json` export) has not expired, but its owner holds no team or
--   Enterprise Account membership any more, or is suspended, deprovisioned or absent in the
--   identity provider. Heroku removes nothing when someone leaves: the token keeps working for as
--   long as the account exists. There is no organisation-wide list of authorizations, so only the
--   exports given can be checked.
-- remediation: Revoke the authorization (`heroku authorizations:revoke ID`, run as its owner), or
--   have Heroku support disable the account.
-- tables: authorizations, team_members, enterprise_members, idp_users, idp_domains
-- params: as_of_epoch
-- gap_scope: global
WITH members AS (
  SELECT DISTINCT email_norm FROM (
    SELECT email_norm FROM team_members
    UNION ALL
    SELECT email_norm FROM enterprise_members
  )
),
owners AS (
  SELECT DISTINCT user_email_norm AS email_norm FROM authorizations WHERE user_email_norm IS NOT NULL
),
flagged AS (
  SELECT email_norm, status, source FROM idp_users WHERE status IN ('suspended', 'deprovisioned')
  UNION ALL
  SELECT o.email_norm, 'absent' AS status, d.source
  FROM owners o
  JOIN idp_domains d ON SPLIT_PART(o.email_norm, '@', 2) = d.domain
  LEFT JOIN idp_users u ON u.email_norm = o.email_norm AND u.source = d.source
  WHERE u.email_norm IS NULL
),
idp AS (
  SELECT email_norm, ARRAY_TO_STRING(ARRAY_AGG(status || ' in ' || SPLIT_PART(source, ':', 1) ORDER BY source), ', ') AS idp_status
  FROM flagged
  GROUP BY email_norm
)
SELECT
  a.id AS item,
  a.user_email AS email,
  a.description,
  a.client_name AS client,
  ARRAY_TO_STRING(a.scopes, ' ') AS scopes,
  a.source,
  a.created_at,
  a.expires_at,
  i.idp_status,
  CASE
    WHEN m.email_norm IS NULL THEN 'Live authorization of someone who holds no team or enterprise membership'
    ELSE 'Live authorization of someone ' || i.idp_status
  END AS message
FROM authorizations a
LEFT JOIN members m ON m.email_norm = a.user_email_norm
LEFT JOIN idp i ON i.email_norm = a.user_email_norm
WHERE (a.expires_at IS NULL OR EXTRACT(EPOCH FROM a.expires_at) > ${as_of_epoch})
  AND (m.email_norm IS NULL OR i.email_norm IS NOT NULL)
