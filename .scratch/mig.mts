import { migrate } from '../src/db/migrate.js';
import pino from 'pino';
console.log(await migrate(process.argv[2]!, pino({ level: 'silent' })));
