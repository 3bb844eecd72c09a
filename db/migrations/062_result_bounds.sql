-- A result's score is 0 to 100 and its rank a whole number from 1 (the workflow's validator and
-- the import check the same; rows written before this are not re-checked).
ALTER TABLE results DROP CONSTRAINT IF EXISTS results_score_range;
ALTER TABLE results ADD CONSTRAINT results_score_range CHECK (score >= 0 AND score <= 100) NOT VALID;
ALTER TABLE results DROP CONSTRAINT IF EXISTS results_rank_range;
ALTER TABLE results ADD CONSTRAINT results_rank_range CHECK (rank >= 1) NOT VALID;
