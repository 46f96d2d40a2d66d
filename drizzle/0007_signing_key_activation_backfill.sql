-- Keys made before activation times existed have signed since they were created.
UPDATE `signing_keys` SET `activates_at` = `created_at` WHERE `activates_at` IS NULL;
