import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, Matches } from 'class-validator';

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** Which version of the model a drift route is about. */
export class DriftVersionQuery {
  @ApiPropertyOptional({
    description:
      'The model version, any the repository holds; default: the version the unversioned routes answer with.',
    example: '1',
  })
  @IsOptional()
  @Matches(/^\d+$/, { message: 'version must be a version number, such as 2' })
  version?: string;
}

/** The window of a drift check run on demand; both ends are UTC days, inclusive. */
export class DriftWindowQuery extends DriftVersionQuery {
  @ApiPropertyOptional({
    description: 'First day (UTC); default DRIFT_WINDOW_DAYS − 1 days before `to`.',
    example: '2026-11-17',
  })
  @IsOptional()
  @Matches(DAY, { message: 'from must be a date written YYYY-MM-DD' })
  from?: string;

  @ApiPropertyOptional({ description: 'Last day (UTC), inclusive; default today.', example: '2026-11-23' })
  @IsOptional()
  @Matches(DAY, { message: 'to must be a date written YYYY-MM-DD' })
  to?: string;
}
