-- First start of the db container only (an empty data volume): run by the image's entrypoint with
-- psql -v ON_ERROR_STOP=1 as the postgres superuser, in database balatrix (POSTGRES_DB). An error
-- stops the first start; the volume is then left half-initialised: remove it before trying again.
--
-- pg_cron is preloaded by docker/postgresql.conf already, so its extension can be created here.
CREATE EXTENSION IF NOT EXISTS pg_cron;

-- Creates the schema, and the roles balatrix_owner, balatrix_api (the sidecar), balatrix_ingest
-- (FreeSWITCH) and balatrix_readonly. Their passwords come from the environment: 20-roles.sh.
CREATE EXTENSION IF NOT EXISTS balatrix;

-- The default plan catalogue (Starter, Professional, Call Center) and add-ons. Operators edit it.
SELECT balatrix.install_default_catalogue() AS catalogue_rows_inserted;

-- Monthly CDR partitions for this month and the next three (calls outside them land in
-- balatrix.cdr_default, never rejected; balatrix.create_cdr_partitions() moves them later).
SELECT count(*) AS cdr_partitions_created FROM balatrix.create_cdr_partitions(3);
