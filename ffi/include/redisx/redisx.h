/* redisx — umbrella header: one include per concept. */
#ifndef REDISX_REDISX_H
#define REDISX_REDISX_H

#include "redisx/common.h"
#include "redisx/version.h"
#include "redisx/errors.h"
#include "redisx/observe.h"
#include "redisx/options.h"
#include "redisx/queue.h"
#include "redisx/client.h"
#include "redisx/lock.h"
#include "redisx/ratelimit.h"
#include "redisx/idempotency.h"
#include "redisx/stream.h"
#include "redisx/cache.h"
#include "redisx/http.h"
#include "redisx/metrics.h"

#endif
