//! Heroku Platform API client and models.
