-- title: Team with a single admin
-- severity: medium
-- fix: manual
-- certify: review
-- frees-seat: false
-- confidence: high
-- description: The team has exactly one admin. Heroku will not let the last admin be removed or
--   demoted, so if that person leaves, is locked out, or is the audit identity itself, nobody can
--   manage members, billing or apps without a support ticket.
-- remediation: Promote a second trusted member to admin (`heroku members:set EMAIL --role admin --team TEAM`).
-- tables: teams, team_members
-- gap_scope: team
SELECT
  t.id AS team_id,
  t.name AS team_name,
  MIN(m.email) AS sole_admin,
  'Only one admin: ' || MIN(m.email) AS message
FROM teams t
JOIN team_members m ON m.team_id = t.id
WHERE m.role = 'admin'
GROUP BY t.id, t.name
HAVING COUNT(*) = 1
