-- title: Collaborator on a personal app
-- severity: low
-- fix: remove-app-collaborator
-- certify: review
-- frees-seat: false
-- confidence: high
-- description: Someone reaches an app owned by a person rather than a team. Personal apps sit
--   outside Teams' roles, permissions and audit trail: nobody but the owner sees who has access,
--   and the access survives the owner's offboarding.
-- remediation: Transfer the app to a team (`heroku apps:transfer --app APP TEAM`) so its access
--   is managed there, or remove the collaborator (`heroku access:remove EMAIL --app APP`).
-- tables: apps, app_permissions
-- gap_scope: app
SELECT
  p.app_id,
  p.team_id,
  p.app_name,
  p.email,
  a.owner_email AS app_owner,
  ARRAY_TO_STRING(p.permissions, ', ') AS permissions,
  'Collaborator on a personal app owned by ' || a.owner_email AS message
FROM app_permissions p
JOIN apps a ON a.id = p.app_id
WHERE a.personal = true
  AND ARRAY_CONTAINS(p.sources, 'personal-collaborator')
  AND NOT ARRAY_CONTAINS(p.sources, 'owner')
