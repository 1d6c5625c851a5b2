/* A program outside the project, built only from the installed package. */
#include <redisx/redisx.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    if (redisx_version() < REDISX_VERSION_NUMBER) {
        fprintf(stderr, "runtime %s older than headers\n", redisx_version_string());
        return 1;
    }
    redisx_client *c = NULL;
    redisx_lock *lk = NULL;
    redisx_status st = redisx_client_open_url(&c, argc > 1 ? argv[1] : "redis://127.0.0.1:6379");
    if (st == REDISX_OK)
        st = redisx_lock_acquire(&lk, c, "consumer", 5000, 1000);
    if (st == REDISX_OK) {
        printf("consumer: redisx %s, lock acquired with fencing token %lld\n", redisx_version_string(),
               (long long)redisx_lock_fencing_token(lk));
        st = redisx_lock_release(lk);
    }
    if (st != REDISX_OK)
        fprintf(stderr, "consumer: %s (%s)\n", redisx_strerror(st), redisx_last_error());
    redisx_lock_free(lk);
    redisx_client_close(c);
    return st == REDISX_OK ? 0 : 1;
}
