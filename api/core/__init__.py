"""What every slice shares and no slice owns: column types, errors, access policies, jobs.

The slices import api.core; api.core imports no slice."""
