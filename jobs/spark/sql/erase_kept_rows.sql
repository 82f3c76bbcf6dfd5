-- Rows of one Parquet file (erasure_target) that stay after erasure: everyone else's, unchanged.
-- NOT EXISTS keeps rows whose id is NULL (NOT IN would drop them). The match placeholder as in erase_matching_rows.sql.
SELECT t.*
FROM erasure_target t
WHERE NOT EXISTS (SELECT 1 FROM erasure_subjects s WHERE :match)
