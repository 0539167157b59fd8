-- title: Team member without two-factor authentication
-- severity: medium
-- fix: manual
-- certify: review
-- frees-seat: false
-- confidence: high
-- description: A team member, viewer or collaborator has two-factor authentication turned off. A
--   stolen password then reaches every app the member can deploy to or view.
--   A member whose 2FA the API did not report is not passed: they are counted as unknown in the
--   rule result, which is then partial.
-- remediation: Ask the member to enable 2FA (Account settings → Two-factor authentication); Heroku
--   requires MFA for dashboard logins, so an account without it is often a stale or shared one.
-- tables: team_members
-- gap_scope: team
SELECT
  team_id,
  team_name,
  email,
  role,
  federated,
  CASE WHEN two_factor_authentication IS NULL THEN '2FA' END AS unknown,
  'Team ' || role || ' with two-factor authentication off' AS message
FROM team_members
WHERE role <> 'admin' AND (two_factor_authentication = false OR two_factor_authentication IS NULL)
