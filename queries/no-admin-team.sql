-- title: Team with no admin
-- severity: high
-- fix: manual
-- certify: review
-- frees-seat: false
-- confidence: high
-- description: The team's member list, as read, holds no admin. Heroku normally refuses to remove
--   the last admin, so this points at a team managed by someone outside it (an Enterprise Account
--   manager) or at an account in a broken state: nobody inside the team can manage it.
-- remediation: Have an Enterprise Account manager or Heroku support appoint an admin for the team.
-- tables: teams, team_members
-- gap_scope: team
WITH admins AS (
  SELECT team_id, COUNT(*) AS admins FROM team_members WHERE role = 'admin' GROUP BY team_id
),
members AS (
  SELECT team_id, COUNT(*) AS members FROM team_members GROUP BY team_id
)
SELECT
  t.id AS team_id,
  t.name AS team_name,
  COALESCE(n.members, 0) AS members,
  'No admin among the team''s members' AS message
FROM teams t
LEFT JOIN admins a ON a.team_id = t.id
LEFT JOIN members n ON n.team_id = t.id
WHERE a.admins IS NULL
