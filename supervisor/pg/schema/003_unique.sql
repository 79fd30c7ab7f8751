-- 003_unique.sql: PLACEHOLDER of branch roster (the loader wants
-- contiguous numbers); the unique branch brings the real file: take theirs.
DO $$ BEGIN END $$;
