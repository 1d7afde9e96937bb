// Next.js's global types. Next.js also writes next-env.d.ts on every build, but that file names the build
// directory it used (.next for `npm start`, .next-test for the browser tests), so it is not kept in git.
/// <reference types="next" />
/// <reference types="next/image-types/global" />
