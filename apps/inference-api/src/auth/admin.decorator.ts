import { SetMetadata } from '@nestjs/common';

export const IS_ADMIN = 'ml-inference:admin';

/**
 * Marks routes that change what is served (the repository API): they take ADMIN_API_KEYS only. A prediction key
 * gets 403, and without ADMIN_API_KEYS they are off (403), even with AUTH_DISABLED.
 */
export const AdminOnly = () => SetMetadata(IS_ADMIN, true);
