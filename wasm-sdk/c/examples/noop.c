/* Keeps every record unchanged. */
#include "penstock.h"

void penstock_on_record(const penstock_record *record) {
    (void)record;
    penstock_keep();
}
