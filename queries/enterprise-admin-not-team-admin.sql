-- title: Enterprise manager who is no team's admin
-- severity: info
-- fix: manual
-- certify: review
-- frees-seat: false
-- confidence: high
-- description: A member with the `manage` permission on the Enterprise Account is admin of none of
--   its teams. Account managers can create teams and manage account members, so this access
--   deserves a named reason even when it is intended. People are matched by Heroku user id where
--   both lists carry one, by email otherwise. When one of the account's teams was not read, the
--   finding stands and says so: the manager may administer that team.
-- remediation: Confirm the person still manages the Enterprise Account; otherwise drop the
--   `manage` permission (`heroku enterprises:members-permissions-remove EMAIL --enterprise-account ACCOUNT --permissions manage`).
-- tables: enterprise_members, team_members, teams
-- gap_scope: enterprise
WITH admins AS (
  SELECT t.enterprise_account_id, m.user_id, m.email_norm
  FROM team_members m
  JOIN teams t ON t.id = m.team_id
  WHERE m.role = 'admin' AND t.enterprise_account_id IS NOT NULL
),
managers AS (
  SELECT
    enterprise_account_id,
    enterprise_account_name,
    email,
    email_norm,
    user_id,
    permissions,
    COALESCE(member_id, user_id, email_norm) AS member_key
  FROM enterprise_members
  WHERE ARRAY_CONTAINS(permissions, 'manage')
),
-- The same person: the same user id where both lists have one, the same email otherwise.
admin_of_a_team AS (
  SELECT e.enterprise_account_id, e.member_key
  FROM managers e
  JOIN admins a ON a.enterprise_account_id = e.enterprise_account_id AND a.user_id = e.user_id
  UNION
  SELECT e.enterprise_account_id, e.member_key
  FROM managers e
  JOIN admins a ON a.enterprise_account_id = e.enterprise_account_id AND a.email_norm = e.email_norm
  WHERE a.user_id IS NULL OR e.user_id IS NULL
)
SELECT
  e.enterprise_account_id,
  e.enterprise_account_name,
  e.email,
  ARRAY_TO_STRING(e.permissions, ', ') AS permissions,
  'Manages enterprise account ' || e.enterprise_account_name || ' but administers none of its teams' AS message
FROM managers e
LEFT JOIN admin_of_a_team x ON x.enterprise_account_id = e.enterprise_account_id AND x.member_key = e.member_key
WHERE x.member_key IS NULL
