-- title: Enterprise manager who is no team's admin
-- severity: info
-- confidence: high
-- description: A member with the `manage` permission on the Enterprise Account is admin of none of
--   its teams. Account managers can create teams and manage account members, so this access
--   deserves a named reason even when it is intended.
-- remediation: Confirm the person still manages the Enterprise Account; otherwise drop the
--   `manage` permission (`heroku enterprises:members-permissions-remove EMAIL --enterprise-account ACCOUNT --permissions manage`).
-- tables: enterprise_members, team_members, teams
-- gap_scope: global
WITH ea_admins AS (
  SELECT t.enterprise_account_id, m.email_norm
  FROM team_members m
  JOIN teams t ON t.id = m.team_id
  WHERE m.role = 'admin' AND t.enterprise_account_id IS NOT NULL
)
SELECT
  e.enterprise_account_name,
  e.email,
  ARRAY_TO_STRING(e.permissions, ', ') AS permissions,
  'Manages enterprise account ' || e.enterprise_account_name || ' but administers none of its teams' AS message
FROM enterprise_members e
LEFT JOIN ea_admins a ON a.enterprise_account_id = e.enterprise_account_id AND a.email_norm = e.email_norm
WHERE ARRAY_CONTAINS(e.permissions, 'manage')
  AND a.email_norm IS NULL
