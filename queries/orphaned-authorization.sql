-- title: Live OAuth authorization of someone who has left
-- severity: high
-- fix: revoke-authorization
-- certify: review
-- frees-seat: false
-- confidence: medium
-- description: An OAuth authorization (read from the API for the audit identity, or from a user's
--   `heroku authorizations --json` export) has not expired, but its owner holds no team or
--   Enterprise Account membership any more, or is suspended, deprovisioned or absent in the
--   identity provider. Heroku removes nothing when someone leaves: the token keeps working for as
--   long as the account exists. There is no organisation-wide list of authorizations, so only the
--   exports given can be checked. The owner is matched to memberships by Heroku user id where
--   both carry one, by email otherwise (`people`), and to the identity provider by email, under
--   the authorization's email and every email Heroku shows for the same person. When a team or
--   account was not read, the finding stands and says so: the owner may be a member there.
-- remediation: Revoke the authorization (`heroku authorizations:revoke ID`, run as its owner), or
--   have Heroku support disable the account.
-- tables: authorizations, team_members, enterprise_members, idp_users, idp_domains, people
-- params: as_of_epoch
-- gap_scope: person
-- A row's person is its own user id, else the one Heroku shows with its email (`people`).
WITH member_ids AS (
  SELECT DISTINCT user_id AS person
  FROM (SELECT user_id FROM team_members UNION ALL SELECT user_id FROM enterprise_members)
  WHERE user_id IS NOT NULL
),
members_without_id AS (
  SELECT DISTINCT p.person
  FROM (
    SELECT user_id, email_norm FROM team_members
    UNION ALL
    SELECT user_id, email_norm FROM enterprise_members
  ) m
  JOIN people p ON p.email_norm = m.email_norm
  WHERE m.user_id IS NULL
),
owners AS (
  SELECT a.id, COALESCE(a.user_id, p.person) AS person
  FROM authorizations a
  LEFT JOIN people p ON p.email_norm = a.user_email_norm
),
owner_emails AS (
  SELECT o.id, p.email_norm FROM owners o JOIN people p ON p.person = o.person
  UNION
  SELECT id, user_email_norm AS email_norm FROM authorizations WHERE user_email_norm IS NOT NULL
),
present AS (
  SELECT DISTINCT o.id, u.source FROM owner_emails o JOIN idp_users u ON u.email_norm = o.email_norm
),
flagged AS (
  SELECT o.id, u.status, u.source
  FROM owner_emails o
  JOIN idp_users u ON u.email_norm = o.email_norm
  WHERE u.status IN ('suspended', 'deprovisioned')
  UNION ALL
  SELECT o.id, 'absent' AS status, d.source
  FROM owner_emails o
  JOIN idp_domains d ON SPLIT_PART(o.email_norm, '@', 2) = d.domain
  LEFT JOIN present p ON p.id = o.id AND p.source = d.source
  WHERE p.id IS NULL
),
idp AS (
  SELECT id, ARRAY_TO_STRING(ARRAY_AGG(status || ' in ' || SPLIT_PART(source, ':', 1) ORDER BY source), ', ') AS idp_status
  FROM (SELECT DISTINCT id, status, source FROM flagged)
  GROUP BY id
),
member_owners AS (
  SELECT o.id FROM owners o JOIN member_ids m ON m.person = o.person
  UNION
  SELECT o.id FROM owners o JOIN members_without_id m ON m.person = o.person
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
    WHEN m.id IS NULL THEN 'Live authorization of someone who holds no team or enterprise membership'
    ELSE 'Live authorization of someone ' || i.idp_status
  END AS message
FROM authorizations a
LEFT JOIN member_owners m ON m.id = a.id
LEFT JOIN idp i ON i.id = a.id
WHERE (a.expires_at IS NULL OR EXTRACT(EPOCH FROM a.expires_at) > ${as_of_epoch})
  AND (m.id IS NULL OR i.id IS NOT NULL)
