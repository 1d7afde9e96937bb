import { generatePrismaClient } from './lib/prisma-generate';

generatePrismaClient();
console.log('Prisma client is up to date.');
