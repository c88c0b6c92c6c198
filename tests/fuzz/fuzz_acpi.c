/*
 * tests/fuzz/fuzz_acpi.c - kernel/acpi.c on a memory image: the RSDP (found
 * by the BIOS scan, or the boot loader's copy), RSDT or XSDT, and every
 * table they point to: MADT, MCFG, FADT and the DSDT's \_S5, HPET. Any of
 * them may lie: lengths, checksums, addresses out of memory or out of the
 * image, tables pointing at themselves or at each other.
 *
 * Input: byte 0 flags (bit 0: the loader passes the RSDP, a copy of the
 * image's first 36 bytes; bit 1: only its first 20; bit 2: UEFI, so no
 * scan), bytes 1-2 the EBDA segment (the word at 0x40E), then the image,
 * laid at physical address 0xE0000 (the BIOS area the scan reads) and
 * up to 1 MiB on. Elsewhere below 4 GiB reads zeros; RAM from 4 to 8 GiB
 * is in the memory map (so reachable) and reads zeros too.
 */
#include "kernel/acpi.h"
#include "tests/fuzz/fuzz.h"

#define IMAGE_PA 0xE0000u
#define IMAGE_MAX (1u << 20)

static struct boot_info bi;
static struct acpi_info ai;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    fake_phys_wild = 1;
    console_log_clear();
    const uint8_t *image = data + 3;
    size_t n = size - 3 > IMAGE_MAX ? IMAGE_MAX : size - 3;

    memset(&bi, 0, sizeof(bi));
    bi.firmware = data[0] & 4 ? FW_UEFI : FW_BIOS;
    if (data[0] & 1) {
        bi.rsdp_len = data[0] & 2 ? 20 : 36;
        memcpy(bi.rsdp, image, n < (size_t)bi.rsdp_len ? n : (size_t)bi.rsdp_len);
    }
    bi.map[0] = (struct mem_region){ 0, 0x9F000, MEM_AVAILABLE };
    bi.map[1] = (struct mem_region){ 0x100000, 0x7FF00000, MEM_AVAILABLE };
    bi.map[2] = (struct mem_region){ 1ull << 32, 1ull << 32, MEM_AVAILABLE };
    bi.nmap = 3;

    fake_phys[0x40E] = data[1], fake_phys[0x40F] = data[2];
    memcpy(fake_phys + IMAGE_PA, image, n);
    acpi_parse(&bi, &ai);
    memset(fake_phys + IMAGE_PA, 0, n);

    FUZZ_CHECK(ai.ntables >= 0 && ai.ntables <= ACPI_MAX_TABLES);
    FUZZ_CHECK(ai.ncpus >= 0 && ai.ncpus <= ACPI_MAX_CPUS);
    FUZZ_CHECK(ai.nmcfg >= 0 && ai.nmcfg <= ACPI_MAX_MCFG);
    for (int i = 0; i < ai.nmcfg; i++)
        FUZZ_CHECK(ai.mcfg[i].base && ai.mcfg[i].bus_start <= ai.mcfg[i].bus_end);
    for (int i = 0; i < ai.ntables; i++)
        FUZZ_CHECK(ai.sig[i][4] == '\0');
    FUZZ_CHECK(ai.oem[6] == '\0');
    FUZZ_CHECK(ai.rsdp_pa || (!ai.ntables && !ai.ncpus && !ai.nmcfg && !ai.has_fadt));
    return 0;
}
