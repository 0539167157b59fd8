-- title: Team admin without two-factor authentication
-- severity: high
-- fix: manual
-- certify: review
-- frees-seat: false
-- confidence: high
-- description: A team admin has two-factor authentication turned off. An admin can add members,
--   change roles and reach every app of the team, so a stolen password is a takeover of the team.
--   An admin whose 2FA the API did not report (real member lists often omit the field) is not
--   passed: they are counted as unknown in the rule result, which is then partial.
-- remediation: Ask the admin to enable 2FA (Account settings → Two-factor authentication), or demote
--   them to member until they do.
-- tables: team_members
-- gap_scope: team
SELECT
  team_id,
  team_name,
  email,
  role,
  federated,
  CASE WHEN two_factor_authentication IS NULL THEN '2FA' END AS unknown,
  'Admin of the team with two-factor authentication off' AS message
FROM team_members
WHERE role = 'admin' AND (two_factor_authentication = false OR two_factor_authentication IS NULL)
