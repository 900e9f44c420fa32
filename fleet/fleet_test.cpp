// Unit tests of the fleet stage: the Kubernetes Job's shape (parsed back
// with yaml-cpp), sharding and naming over the whole list, the source list
// reader and the merge's refusals.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>

#include "common/file_util.h"
#include "convert/convert.h"
#include "fleet/k8s.h"
#include "fleet/merge.h"
#include "fleet/source_list.h"

namespace decant {
namespace {

std::string scratch(const char* tag) {
  std::string t = (std::filesystem::temp_directory_path() / (std::string("fleet_test_") + tag + "XXXXXX")).string();
  return mkdtemp(t.data());
}

TEST(Shard, EverySourceInExactlyOneShard) {
  for (int count : {1, 2, 3, 7}) {
    std::vector<int> seen(10, 0);
    for (int i = 0; i < count; ++i)
      for (size_t k : shard_sources(10, i, count)) {
        EXPECT_EQ(static_cast<int>(k % count), i);
        ++seen[k];
      }
    for (int n : seen) EXPECT_EQ(n, 1) << count;
  }
  EXPECT_TRUE(shard_sources(2, 2, 3).empty());
}

TEST(Shard, NamesComeFromTheWholeList) {
  // The repeat's -2 depends on the first, whoever converts it.
  std::vector<std::string> list = {"a/guest", "b/guest.tar.gz", "c/vm.qcow2"};
  EXPECT_EQ(source_dir_names(list), (std::vector<std::string>{"guest", "guest-2", "vm"}));
  EXPECT_EQ(source_dir_names({"x/vm1"}), std::vector<std::string>{""});
  EXPECT_EQ(source_dir_names({"x/vm1"}, true), std::vector<std::string>{"vm1"});
}

TEST(SourceList, SkipsBlanksAndComments) {
  std::string dir = scratch("list");
  ASSERT_TRUE(write_file_atomic(dir + "/l", "# vms\n/vms/a\n\n  /vms/b  \n#/vms/c\n"));
  auto l = read_source_list(dir + "/l");
  ASSERT_TRUE(l);
  EXPECT_EQ(*l, (std::vector<std::string>{"/vms/a", "/vms/b"}));
  EXPECT_FALSE(read_source_list(dir + "/missing"));
  std::filesystem::remove_all(dir);
}

TEST(K8s, IndexedJobOverTheList) {
  K8sFleetOptions o;
  o.sources = {"/sources/a.qcow2", "/sources/b", "/sources/c.tar"};
  o.parallelism = 2;
  o.sources_pvc = "vms";
  o.convert_args = {"-j", "2"};
  auto m = k8s_fleet_manifests(o);
  ASSERT_TRUE(m) << m.error().message;
  auto docs = YAML::LoadAll(m->job);
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[0]["kind"].as<std::string>(), "ConfigMap");
  EXPECT_EQ(docs[0]["data"]["sources.txt"].as<std::string>(), "/sources/a.qcow2\n/sources/b\n/sources/c.tar\n");
  const YAML::Node job = docs[1];
  EXPECT_EQ(job["kind"].as<std::string>(), "Job");
  EXPECT_EQ(job["spec"]["completionMode"].as<std::string>(), "Indexed");
  EXPECT_EQ(job["spec"]["completions"].as<int>(), 3);
  EXPECT_EQ(job["spec"]["parallelism"].as<int>(), 2);
  const YAML::Node c = job["spec"]["template"]["spec"]["containers"][0];
  EXPECT_EQ(c["image"].as<std::string>(), o.image);
  auto args = c["args"].as<std::vector<std::string>>();
  auto after = [&](const std::string& opt) {
    auto it = std::find(args.begin(), args.end(), opt);
    return it != args.end() && it + 1 != args.end() ? *(it + 1) : std::string("<none>");
  };
  EXPECT_EQ(args[0], "convert");
  EXPECT_EQ(after("--shard-count"), "3");
  EXPECT_EQ(after("--shard-index"), "$(JOB_COMPLETION_INDEX)");
  EXPECT_EQ(after("--sources"), kFleetListPath);
  EXPECT_EQ(after("-o"), "/out");
  EXPECT_EQ(after("-j"), "2");
  bool has_index_env = false;
  for (const auto& e : c["env"]) has_index_env |= e["name"].as<std::string>() == "JOB_COMPLETION_INDEX";
  EXPECT_TRUE(has_index_env);
  std::vector<std::string> claims;
  for (const auto& v : job["spec"]["template"]["spec"]["volumes"])
    if (v["persistentVolumeClaim"]) claims.push_back(v["persistentVolumeClaim"]["claimName"].as<std::string>());
  EXPECT_EQ(claims, (std::vector<std::string>{"decant-out", "vms"}));
  auto merge = YAML::Load(m->merge);
  EXPECT_EQ(merge["kind"].as<std::string>(), "Job");
  EXPECT_FALSE(merge["spec"]["completionMode"]);
  EXPECT_EQ(merge["spec"]["template"]["spec"]["containers"][0]["args"][1].as<std::string>(), "merge");
}

TEST(K8s, ParallelismDefaultsToOnePodPerSource) {
  K8sFleetOptions o;
  o.sources = {"a", "b"};
  auto m = k8s_fleet_manifests(o);
  ASSERT_TRUE(m);
  EXPECT_EQ(YAML::LoadAll(m->job)[1]["spec"]["parallelism"].as<int>(), 2);
  o.parallelism = 9;  // never more pods than sources
  EXPECT_EQ(YAML::LoadAll(k8s_fleet_manifests(o)->job)[1]["spec"]["parallelism"].as<int>(), 2);
}

TEST(K8s, RefusesBadNames) {
  K8sFleetOptions o;
  EXPECT_FALSE(k8s_fleet_manifests(o));  // no sources
  o.sources = {"a"};
  o.name = "Decant_Fleet";
  EXPECT_FALSE(k8s_fleet_manifests(o));
  o.name = "decant";
  o.pvc = "-out";
  EXPECT_FALSE(k8s_fleet_manifests(o));
}

TEST(Merge, RefusesAMissingShardAndAnotherList) {
  std::string out = scratch("merge");
  auto r = merge_fleet({"/vms/a", "/vms/b"}, out);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("/vms/a"), std::string::npos);
  std::filesystem::create_directories(out + "/a");
  ASSERT_TRUE(write_file_atomic(out + "/a/summary.json", R"({"source": "/elsewhere/a", "services": []})"));
  r = merge_fleet({"/vms/a"}, out);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("another list"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(out + "/summary.json"));
  std::filesystem::remove_all(out);
}

}  // namespace
}  // namespace decant
