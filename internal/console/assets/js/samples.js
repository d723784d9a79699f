// Sample payloads per platform, so a dry run can start from something real-shaped.
export const samples = {
  generic: [{
    name: "Web form lead",
    payload: {
      id: "test-lead-1", occurred_at: "2026-11-20T10:00:00Z",
      lead: { email: "ana.muster@example.com", first_name: "Ana", last_name: "Muster", phone: "+49 170 1234567", city: "Berlin", country: "DE" },
      consent: { newsletter: true, sales_contact: false },
    },
  }],
  meta: [{
    name: "Lead ads notification (webhook as sent)",
    payload: {
      object: "page",
      entry: [{ id: "111111111111111", time: 1768473000, changes: [{ field: "leadgen", value: {
        leadgen_id: "222222222222222", page_id: "111111111111111", form_id: "333333333333333", ad_id: "444444444444444", created_time: 1768472990 } }] }],
    },
  }, {
    name: "Instagram comment",
    payload: {
      object: "instagram",
      entry: [{ id: "17841400000000000", time: 1768473000, changes: [{ field: "comments", value: {
        id: "18000000000000001", from: { id: "9000000000000001", username: "jorg.muller" },
        text: "How much is it?", media: { id: "18000000000000099", media_product_type: "FEED" } } }] }],
    },
  }],
};
