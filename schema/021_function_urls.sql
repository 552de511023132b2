-- Function URLs (/fn/{name}/...): per function, public ('none') or
-- protected by an API key ('key', the default: nothing is public unless
-- asked for).
ALTER TABLE functions
  ADD COLUMN IF NOT EXISTS url_auth ENUM('none', 'key') NOT NULL DEFAULT 'key';
