-- title: Non-federated member of a team with single sign-on
-- severity: medium
-- fix: manual
-- certify: review
-- frees-seat: false
-- confidence: medium
-- description: The team signs in through an identity provider, but this member is not federated:
--   they log in with a Heroku password, outside the identity provider's control. Switching them
--   off in Okta, Entra ID or Google does not switch off this access. A member whose `federated`
--   flag the API did not report is not passed: they are counted as unknown in the rule result,
--   which is then partial.
-- remediation: Have the member sign in once through the team's SSO so their account becomes
--   federated, or remove them if they should not bypass it.
-- tables: teams, team_members, identity_providers
-- gap_scope: team
WITH sso_teams AS (
  SELECT id AS team_id FROM teams WHERE identity_provider_id IS NOT NULL
  UNION
  SELECT team_id FROM identity_providers
)
SELECT
  m.team_id,
  m.team_name,
  m.email,
  m.role,
  CASE WHEN m.federated IS NULL THEN 'SSO federation' END AS unknown,
  'Signs in with a Heroku password in a team that uses single sign-on' AS message
FROM team_members m
WHERE (m.federated = false OR m.federated IS NULL)
  AND m.team_id IN (SELECT team_id FROM sso_teams)
