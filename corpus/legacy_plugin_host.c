/* legacy_plugin_host: loads its plugin with dlopen() instead of linking it,
 * first by bare soname "libplugin_hello.so" (found through the loader's
 * search path) and then by a hard-coded install path under /usr/lib/legacy.
 * Exercises closure discovery beyond DT_NEEDED: decant must read the dlopen
 * targets out of the code and ship the plugin, or remap the path. */
#include <dlfcn.h>
#include <stdio.h>

typedef const char *(*hello_fn)(void);

int main(void) {
  void *h = dlopen("libplugin_hello.so", RTLD_NOW);
  if (h == NULL) {
    fprintf(stderr, "legacy_plugin_host: %s; trying install path\n",
            dlerror());
    h = dlopen("/usr/lib/legacy/plugins/libplugin_hello.so", RTLD_NOW);
  }
  if (h == NULL) {
    fprintf(stderr, "legacy_plugin_host: cannot load plugin: %s\n", dlerror());
    return 2;
  }
  hello_fn hello = (hello_fn)dlsym(h, "plugin_hello");
  if (hello == NULL) {
    fprintf(stderr, "legacy_plugin_host: no plugin_hello: %s\n", dlerror());
    return 2;
  }
  printf("plugin says: %s\n", hello());
  dlclose(h);
  return 0;
}
