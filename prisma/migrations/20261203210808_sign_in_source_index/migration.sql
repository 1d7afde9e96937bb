-- The sign-in throttle counts denied sign-ins per source (issue 9, class 1):
-- details->>'sourceKey' of auth.sign_in rows. Prisma cannot model an
-- expression index; the schema copy beside this file is unchanged.
CREATE INDEX "audit_events_sign_in_source_at_idx"
  ON "audit_events" ((details->>'sourceKey'), "at" DESC)
  WHERE "action" = 'auth.sign_in';
