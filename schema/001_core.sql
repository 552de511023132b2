-- The function registry and API keys (issue 2).  Applied once, in order, by
-- scripts/migrate.sh.  All times are UTC (the API sets time_zone = '+00:00').

CREATE TABLE IF NOT EXISTS functions (
  id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  -- [A-Za-z0-9_-]{1,64}, checked by the API; binary collation: 'A' != 'a'
  name        VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  runtime     ENUM('python', 'javascript') NOT NULL,
  -- 'main.handler' (aws style) or a seed-style file name such as 'hello.py'
  handler     VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  style       ENUM('aws', 'seed') NOT NULL,
  -- the seed client's 'route'; NULL = none given
  route       VARCHAR(255) NULL,
  code        LONGBLOB NOT NULL,
  code_format ENUM('text', 'zip') NOT NULL,
  code_sha256 CHAR(64) CHARACTER SET ascii NOT NULL,
  code_size   INT UNSIGNED NOT NULL,
  timeout_ms  INT UNSIGNED NOT NULL,
  memory_mb   INT UNSIGNED NOT NULL,
  isolation   ENUM('docker', 'gvisor') NOT NULL DEFAULT 'docker',
  -- {"NAME": "value"}; size capped by the API (api.max_env_bytes)
  env         TEXT NOT NULL,
  -- 0 = the executor's default per-function concurrency cap
  concurrency INT UNSIGNED NOT NULL DEFAULT 0,
  version     INT UNSIGNED NOT NULL DEFAULT 1,
  created_at  DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at  DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (id),
  UNIQUE KEY uq_functions_name (name)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE IF NOT EXISTS api_keys (
  id            BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  -- 'LK' + 18 upper-case hex digits: the public half of the key
  access_key_id CHAR(20) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  name          VARCHAR(64) NOT NULL,
  -- SHA-256 (hex) of the whole key '<access_key_id>.<secret>'; never the key
  key_hash      CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  created_at    DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  last_used_at  DATETIME(3) NULL,
  revoked       TINYINT(1) NOT NULL DEFAULT 0,
  revoked_at    DATETIME(3) NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_api_keys_access_key_id (access_key_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
