import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'ml-inference:public';

/** Marks probe and scrape routes that stay open when API keys are configured. */
export const Public = () => SetMetadata(IS_PUBLIC, true);
