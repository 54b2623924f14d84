/**
 * Sets English messages for every zod schema on the deployed path (config, events, SQS envelope), once:
 * they use `zod/mini`, the functional API over the same core as classic zod at a third of its size in the
 * bundle, which loads no locale, so every message would read "Invalid input". Import it for its effect
 * (`import './zod-english'`) beside `import * as z from 'zod/mini'`; re-exporting the `z` namespace from here
 * instead would keep all of zod in the bundle (test/infra/bundling.test.ts).
 */
import { config } from 'zod/mini';
// The one locale by name: `z.locales.en` would bundle every locale.
import { en } from 'zod/v4/locales';

config(en());
