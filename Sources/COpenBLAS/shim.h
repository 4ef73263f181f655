#include <cblas.h>
/* openblas_get_corename / openblas_get_num_threads / openblas_set_num_threads are declared by cblas.h
   in Debian's openblas-pthread flavour (through openblas_config.h). */
