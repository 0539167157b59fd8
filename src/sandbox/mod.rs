//! A loopback HTTP server that behaves like the Heroku Platform API over a fixture organisation.
