import { z } from 'zod';

// The console's CSP allows no eval (lib/security-headers.ts). Zod 4 compiles
// object parsers with `new Function` where it may, and its probe for that is
// itself reported as a CSP violation even though it is caught: the console's
// forms parse without it (imported first by the client's providers).
z.config({ jitless: true });
